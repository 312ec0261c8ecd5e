// kg's query editor: YASGUI (vendored under /static/yasgui/) with every stored query as a tab.
// A stored query's tab sends its text and its parameter fields to /api/queries/NAME, where the
// parameters are validated and bound by the server (also when the text was edited); the free tab
// sends plain SPARQL to /sparql. Nothing is fetched from another origin (the page's CSP forbids it).
'use strict';
(function () {
  const data = JSON.parse(document.getElementById('stored').textContent);
  const origin = window.location.origin;
  const SPARQL = origin + '/sparql';
  const STORED = origin + '/api/queries/';
  const paramsEl = document.getElementById('params');

  // Completion from this server only: kg's prefixes after PREFIX, and the query's variables
  // (not prefix.cc or the LOV vocabulary search that YASQE asks by default).
  Yasgui.Yasqe.defaults.autocompleters = ['prefixes', 'variables'];
  Yasgui.Yasqe.defaults.prefixCcApi = origin + '/api/prefixes';

  const yasgui = new Yasgui(document.getElementById('yasgui'), {
    persistenceId: 'kg-editor',
    autoAddOnInit: false,
    copyEndpointOnNewTab: false,
    tabName: 'SPARQL',
    requestConfig: {
      endpoint: SPARQL,
      method: 'POST',
      acceptHeaderSelect: 'application/sparql-results+json,*/*;q=0.9',
      acceptHeaderGraph: 'text/turtle,*/*;q=0.9',
    },
    endpointCatalogueOptions: { getData: () => [{ endpoint: SPARQL }] },
    yasr: { prefixes: data.prefixes },
  });

  function storedName(tab) {
    const endpoint = tab ? tab.getEndpoint() : '';
    if (!endpoint.startsWith(STORED)) return null;
    const name = decodeURIComponent(endpoint.slice(STORED.length));
    return Object.prototype.hasOwnProperty.call(data.queries, name) ? name : null;
  }

  function tabs() {
    return yasgui.persistentConfig.getTabs().map((id) => yasgui.getTab(id)).filter(Boolean);
  }

  // One free tab on /sparql and one tab per stored query (added when missing, e.g. on a first visit).
  // (Yasgui's selectTabId needs a selected tab already: the first tab added is added as selected.)
  const present = new Set(tabs().map((tab) => storedName(tab) || tab.getEndpoint()));
  let select = !yasgui.persistentConfig.getActiveId();
  function add(config) {
    yasgui.addTab(select, config);
    select = false;
  }
  if (!present.has(SPARQL)) {
    add({
      name: 'SPARQL',
      yasqe: {
        value: 'PREFIX mi: <' + data.prefixes.mi + '>\nPREFIX skos: <' + data.prefixes.skos + '>\n\n' +
          'SELECT ?initiative ?name WHERE {\n  ?initiative a mi:Initiative ;\n' +
          '      skos:prefLabel ?name .\n}\nORDER BY ?name\n',
      },
      requestConfig: { endpoint: SPARQL },
    });
  }
  for (const [name, query] of Object.entries(data.queries)) {
    if (present.has(name)) continue;
    const args = query.parameters
      .filter((p) => p.example !== null && p.example !== '')
      .map((p) => ({ name: p.name, value: p.example }));
    add({
      name: name,
      yasqe: { value: query.text },
      requestConfig: { endpoint: STORED + encodeURIComponent(name), args: args },
    });
  }
  if (select) {
    const first = tabs()[0].getId();
    yasgui.persistentConfig.setActive(first);
    yasgui.markTabSelected(first);
  }
  window.kgEditor = yasgui;

  // The parameter fields of the selected stored query; their values are the tab's request arguments,
  // so they are kept with the tab and go into its permalink.
  function saveParams(tab) {
    const args = [];
    for (const input of paramsEl.querySelectorAll('input')) {
      if (input.value) args.push({ name: input.name, value: input.value });
    }
    tab.setRequestConfig({ args: args });
  }

  function showParams(tab) {
    paramsEl.textContent = '';
    const name = storedName(tab);
    if (!name) return;
    const query = data.queries[name];
    const current = {};
    const args = tab.getRequestConfig().args;
    for (const arg of Array.isArray(args) ? args : []) current[arg.name] = arg.value;
    const heading = document.createElement('p');
    heading.textContent = name + ': ' + query.summary;
    paramsEl.appendChild(heading);
    for (const p of query.parameters) {
      const label = document.createElement('label');
      label.textContent = p.name + (p.required ? '' : ' (' + data.words.optional + ')');
      const input = document.createElement('input');
      input.name = p.name;
      input.value = current[p.name] || '';
      if (p.example) input.placeholder = p.example;
      input.addEventListener('input', () => saveParams(tab));
      label.appendChild(input);
      paramsEl.appendChild(label);
    }
  }

  yasgui.on('tabSelect', (_yasgui, id) => showParams(yasgui.getTab(id)));
  showParams(yasgui.getTab());

  // The dataset's own IRIs open on this server (as on the linked-data pages), not at w3id.org.
  function localLink(event) {
    const anchor = event.target.closest && event.target.closest('a[href]');
    if (!anchor) return;
    const href = anchor.getAttribute('href');
    for (const base of data.local) {
      if (href === base.replace(/\/$/, '') || href.startsWith(base)) {
        anchor.setAttribute('href', origin + '/' + href.slice(data.base.length));
        return;
      }
    }
  }
  const root = document.getElementById('yasgui');
  root.addEventListener('click', localLink, true);
  root.addEventListener('auxclick', localLink, true);
})();
