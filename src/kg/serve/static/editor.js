const ACCEPT = 'application/sparql-results+json, text/turtle;q=0.9, application/json;q=0.5';
const queries = JSON.parse(document.getElementById('stored').textContent);
const select = document.getElementById('query-name'), text = document.getElementById('query-text');
const params = document.getElementById('params'), out = document.getElementById('results');
function choose() {
  const q = queries[select.value];
  params.innerHTML = '';
  if (!q) { return; }
  text.value = q.text;
  for (const p of q.parameters) {
    if (p.name === 'lang') continue;
    const label = document.createElement('label');
    label.textContent = p.name + (p.required ? '' : ' (optional)');
    const input = document.createElement('input');
    input.name = p.name; input.value = p.example || ''; input.dataset.param = '1';
    label.appendChild(input); params.appendChild(label);
  }
}
async function run() {
  out.textContent = '…';
  let response;
  const q = queries[select.value];
  if (q && text.value === q.text) {
    const search = new URLSearchParams();
    for (const input of params.querySelectorAll('input[data-param]')) {
      if (input.value) search.set(input.name, input.value);
    }
    response = await fetch('/api/queries/' + select.value + '?' + search,
                           {headers: {Accept: ACCEPT}});
  } else {
    response = await fetch('/sparql', {method: 'POST', body: text.value,
      headers: {'Content-Type': 'application/sparql-query', Accept: ACCEPT}});
  }
  const type = response.headers.get('Content-Type') || '';
  if (response.ok && type.startsWith('text/turtle')) {  // CONSTRUCT and DESCRIBE: the triples as text
    const pre = document.createElement('pre');
    pre.id = 'rdf-result'; pre.textContent = await response.text();
    out.innerHTML = ''; out.append(pre); return;
  }
  const data = await response.json();
  if (!response.ok) {
    out.innerHTML = '<p class="error"></p>'; out.firstChild.textContent = data.error; return;
  }
  if ('boolean' in data) { out.textContent = String(data.boolean); return; }
  const table = document.createElement('table'), head = table.insertRow();
  for (const v of data.head.vars) {
    const th = document.createElement('th'); th.textContent = v; head.appendChild(th);
  }
  for (const b of data.results.bindings) {
    const row = table.insertRow();
    for (const v of data.head.vars) { row.insertCell().textContent = b[v] ? b[v].value : ''; }
  }
  out.innerHTML = '';
  const count = document.createElement('p');
  count.id = 'row-count'; count.textContent = data.results.bindings.length + ' rows';
  out.append(count, table);
}
select.addEventListener('change', choose);
document.getElementById('run').addEventListener('click', run);
choose();
