"""The CSS and JavaScript inlined into matrix.html (the page must open offline, from a CI
artifact, with no fetch of any kind). The script only reads the embedded JSON and writes text
nodes: relay answers are untrusted and never become markup."""

CSS = """
:root { --pass:#2e9e5b; --strict:#e3a21a; --fail:#d64541; --error:#7d3c98; --skip:#b0b6bd; --ink:#1f2328; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); margin: 0;
       padding: 20px 28px 40px; background: #fafbfc; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 28px 0 10px; }
h3 { font-size: 15px; margin: 18px 0 8px; }
.muted { color: #6a737d; } code, pre { font: 12px/1.4 ui-monospace, "DejaVu Sans Mono", monospace; }
.incomplete { margin: 8px 0; padding: 8px 12px; border: 2px solid #d73a49; background: #ffeef0; }
.scores { display: flex; flex-wrap: wrap; gap: 14px; margin: 14px 0; }
.score { background: #fff; border: 1px solid #d8dee4; border-radius: 8px; padding: 10px 16px; min-width: 250px; }
.score .gw { font-weight: 600; } .score .pct { font-size: 24px; font-weight: 700; margin-right: 4px; }
.score .row { display: flex; align-items: baseline; gap: 8px; margin-top: 4px; }
.meter { height: 6px; background: #eaeef2; border-radius: 3px; overflow: hidden; margin-top: 2px; }
.meter > span { display: block; height: 100%; background: var(--pass); }
.legend { display: flex; flex-wrap: wrap; gap: 14px; margin: 8px 0 4px; font-size: 13px; }
.legend span::before { content: ""; display: inline-block; width: 12px; height: 12px; border-radius: 3px;
                       margin-right: 5px; vertical-align: -1px; background: var(--c); }
table { border-collapse: collapse; background: #fff; }
table.matrix th, table.matrix td { border: 1px solid #d8dee4; padding: 3px 6px; text-align: center; }
table.matrix thead th { background: #f3f5f7; font-weight: 600; font-size: 12px; white-space: nowrap; }
table.matrix th.case { text-align: left; font-weight: 600; white-space: nowrap; }
table.matrix th.case .file { font-weight: 400; font-size: 11px; color: #6a737d; }
td.cell { min-width: 44px; cursor: pointer; color: #fff; font-weight: 700; }
td.cell:hover, td.cell.selected { outline: 3px solid #0969da; outline-offset: -3px; }
td.pass { background: var(--pass); } td.strict { background: var(--strict); } td.fail { background: var(--fail); }
td.error { background: var(--error); } td.skip { background: var(--skip); }
td.none { background: #fff; cursor: default; }
.wrap { overflow-x: auto; margin-bottom: 14px; }
table.codes td, table.codes th { border: 1px solid #d8dee4; padding: 2px 8px; text-align: left; }
#detail { position: fixed; right: 0; top: 0; bottom: 0; width: min(680px, 55vw); background: #fff;
          border-left: 1px solid #d0d7de; box-shadow: -4px 0 16px rgba(0,0,0,.08); padding: 16px 20px;
          overflow: auto; display: none; }
#detail.open { display: block; }
#detail .close { float: right; cursor: pointer; border: 1px solid #d0d7de; background: #f6f8fa;
                 border-radius: 6px; padding: 2px 10px; }
#detail dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 8px 0; }
#detail dt { color: #6a737d; } #detail dd { margin: 0; }
.viol { border-left: 4px solid var(--fail); background: #fff5f5; padding: 4px 8px; margin: 6px 0; }
.viol.strict { border-color: var(--strict); background: #fffaf0; }
.viol.note { border-color: var(--skip); background: #f6f8fa; }
.viol .code { font-weight: 700; }
pre.digest { background: #f6f8fa; border: 1px solid #d0d7de; padding: 10px; border-radius: 6px;
             overflow: auto; white-space: pre-wrap; }
pre.transcript { background: #0d1117; color: #e6edf3; padding: 10px; border-radius: 6px; overflow: auto;
                 max-height: 60vh; white-space: pre; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; color: #fff; font-weight: 600; }
"""

JS = """
(function () {
  const items = JSON.parse(document.getElementById('relaycheck-items').textContent);
  const panel = document.getElementById('detail');
  function el(tag, attrs, text) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function fmt(v, unit) { return v === null || v === undefined ? '–' : v + (unit || ''); }
  function show(id) {
    const it = items[id];
    if (!it) return;
    document.querySelectorAll('td.selected').forEach(c => c.classList.remove('selected'));
    const cell = document.querySelector('td.cell[data-id="' + CSS.escape(id) + '"]');
    if (cell) cell.classList.add('selected');
    panel.replaceChildren();
    const close = el('button', {class: 'close', type: 'button'}, 'close');
    close.onclick = () => { panel.classList.remove('open'); history.replaceState(null, '', location.pathname); };
    const title = [it.case || it.id, fmt(it.model), fmt(it.endpoint), it.stream ? 'stream' : 'sync'].join(' · ');
    panel.append(close, el('h3', {}, title));
    panel.append(el('div', {class: 'muted'}, it.id));
    const badge = el('span', {class: 'badge', style: 'background: var(--' + it.css + ')'}, it.verdict);
    panel.append(badge);
    const dl = el('dl');
    const where = it.file ? it.file + ':' + it.line : '–';
    const rows = [['gateway', fmt(it.gateway)], ['defined at', where], ['HTTP status', fmt(it.status)],
      ['TTFT', fmt(it.ttft_ms, ' ms')], ['total latency', fmt(it.latency_ms, ' ms')],
      ['tokens in / out', fmt(it.input_tokens) + ' / ' + fmt(it.output_tokens)],
      ['output tokens/s', fmt(it.output_tps)], ['attempts', fmt(it.attempts)]];
    if (it.skip_reason) rows.push(['skipped', it.skip_reason]);
    for (const [k, v] of rows) dl.append(el('dt', {}, k), el('dd', {}, v));
    panel.append(dl);
    if (it.error) panel.append(el('h3', {}, 'harness error'), el('pre', {class: 'transcript'}, it.error));
    const lists = [['violations', it.violations || []], ['notes', it.notes || []]];
    for (const [title, list] of lists) {
      if (!list.length) continue;
      panel.append(el('h3', {}, title + ' (' + list.length + ')'));
      for (const v of list) {
        const sev = v.severity || 'error';
        const box = el('div', {class: 'viol ' + sev, 'data-code': v.code});
        box.append(el('span', {class: 'code'}, '[' + v.code + ']' + (sev === 'error' ? '' : ' (' + sev + ')')),
                   document.createTextNode(' at '), el('code', {}, v.path), el('div', {}, v.message));
        for (const k of ['expected', 'actual']) {
          if (v[k] !== undefined) box.append(el('div', {class: 'muted'}, k + ': ' + JSON.stringify(v[k])));
        }
        panel.append(box);
      }
    }
    panel.append(el('h3', {}, 'transcript (arrival offsets)'));
    panel.append(el('pre', {class: 'transcript'}, it.transcript || '(none recorded)'));
    panel.classList.add('open');
    panel.setAttribute('data-open', id);
  }
  document.querySelectorAll('td.cell').forEach(c => c.addEventListener('click', () => {
    history.replaceState(null, '', '#item=' + encodeURIComponent(c.dataset.id));
    show(c.dataset.id);
  }));
  const m = location.hash.match(/^#item=(.+)$/);
  if (m) show(decodeURIComponent(m[1]));
})();
"""
