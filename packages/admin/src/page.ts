/** What the page needs to know, embedded in it as JSON. */
export interface PageConfig {
  /** The feed's library URL (with the token). */
  library: string;
  /** The token the feed connection carries. */
  token: string;
  /** The global the feed's library assigns. */
  global: string;
}

const STYLE = `
:root { color-scheme: light; --fg: #1d2330; --muted: #6b7280; --line: #e5e7eb; --bg: #f7f8fa; --card: #fff; --accent: #2563eb; --accent2: #db2777; --ok: #059669; --bad: #dc2626; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; align-items: baseline; gap: 16px; padding: 14px 24px; background: #111827; color: #f9fafb; }
header h1 { font-size: 18px; margin: 0; font-weight: 600; }
header .meta { color: #9ca3af; }
#state { margin-left: auto; padding: 2px 10px; border-radius: 999px; background: #374151; font-size: 12px; }
#state.live { background: var(--ok); }
#state.down { background: var(--bad); }
main { padding: 16px 24px 32px; display: grid; gap: 16px; grid-template-columns: repeat(2, minmax(0, 1fr)); }
section { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px; min-width: 0; overflow-x: auto; }
section.wide { grid-column: 1 / -1; }
h2 { font-size: 13px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); margin: 0 0 8px; font-weight: 600; }
table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line); white-space: nowrap; overflow: hidden; text-overflow: ellipsis; max-width: 320px; }
th { font-weight: 600; color: var(--muted); font-size: 12px; }
td.id { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; }
#disconnections td.id { max-width: 140px; }
.empty { color: var(--muted); padding: 8px; }
button { font: inherit; font-size: 12px; padding: 2px 10px; border: 1px solid var(--bad); color: var(--bad); background: #fff; border-radius: 4px; cursor: pointer; }
button:disabled { opacity: .5; cursor: default; }
.chart { width: 100%; height: 140px; display: block; }
.legend { display: flex; gap: 16px; font-size: 12px; color: var(--muted); margin-top: 4px; }
.legend b { color: var(--fg); font-weight: 600; }
.swatch { display: inline-block; width: 10px; height: 3px; vertical-align: middle; margin-right: 4px; }
.c1 { background: #2563eb; } .c2 { background: #db2777; } .c3 { background: #059669; } .c4 { background: #dc2626; }
.servers li { margin: 2px 0; }
.servers .self { font-weight: 600; }
.note { color: var(--muted); font-size: 12px; margin-top: 6px; }
.reason-client { color: var(--muted); } .reason-server { color: var(--accent); } .reason-heartbeat { color: #b45309; } .reason-error { color: var(--bad); }
`;

/** The browser side, run after the feed's library; it reads its configuration from the page. */
function script(): void {
  const config = JSON.parse(document.getElementById('admin-config')!.textContent!) as { token: string; global: string };
  type Row = { id: string; address: string; transformer: string; connectedAt: number; lastHeartbeat: number | null; latency: number | null };
  type Gone = { id: string; address: string; reason: string; connectedAt: number; at: number };
  type Sample = { t: number; received: number; sent: number; connections: number; disconnections: number; sparks: number };
  const $ = (id: string): HTMLElement => document.getElementById(id)!;
  const rows = new Map<string, { row: Row; tr: HTMLTableRowElement }>();
  let series: Sample[] = [];
  let skew = 0;
  let sparkCount = 0;
  const now = (): number => Date.now() + skew;

  const el = (tag: string, text?: string, cls?: string): HTMLElement => {
    const node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    if (cls) node.className = cls;
    return node;
  };
  const ago = (t: number | null): string => {
    if (t === null) return '—';
    const s = Math.max(0, Math.round((now() - t) / 1000));
    if (s < 60) return s + ' s ago';
    if (s < 3600) return Math.floor(s / 60) + ' min ' + (s % 60) + ' s ago';
    return Math.floor(s / 3600) + ' h ' + Math.floor((s % 3600) / 60) + ' min ago';
  };
  const clock = (t: number): string => new Date(t - skew).toLocaleTimeString();
  const duration = (ms: number): string => {
    const s = Math.round(ms / 1000);
    return s < 60 ? s + ' s' : s < 3600 ? Math.floor(s / 60) + ' min ' + (s % 60) + ' s' : Math.floor(s / 3600) + ' h ' + Math.floor((s % 3600) / 60) + ' min';
  };
  const rate = (n: number): string => (n >= 100 ? Math.round(n).toLocaleString() : n >= 10 ? n.toFixed(1) : n.toFixed(2));

  function state(text: string, cls: string): void {
    const node = $('state');
    node.textContent = text;
    node.className = cls;
  }

  function fill(tr: HTMLTableRowElement, row: Row): void {
    const cells = tr.children;
    cells[3]!.textContent = clock(row.connectedAt) + ' (' + ago(row.connectedAt) + ')';
    cells[4]!.textContent = ago(row.lastHeartbeat);
    cells[5]!.textContent = row.latency === null ? '—' : row.latency + ' ms';
  }

  function addRow(row: Row): void {
    if (rows.has(row.id)) return;
    const tr = document.createElement('tr');
    tr.dataset.id = row.id;
    tr.appendChild(el('td', row.id, 'id'));
    tr.appendChild(el('td', row.address));
    tr.appendChild(el('td', row.transformer));
    tr.appendChild(el('td'));
    tr.appendChild(el('td'));
    tr.appendChild(el('td'));
    const action = el('td');
    const button = el('button', 'End') as HTMLButtonElement;
    button.dataset.end = row.id;
    button.title = 'End this spark (its client is told not to reconnect)';
    action.appendChild(button);
    tr.appendChild(action);
    fill(tr, row);
    $('sparks').appendChild(tr);
    rows.set(row.id, { row, tr });
  }

  function removeRow(id: string): void {
    const entry = rows.get(id);
    if (!entry) return;
    entry.tr.remove();
    rows.delete(id);
  }

  function addGone(gone: Gone, atTop: boolean): void {
    const tr = document.createElement('tr');
    tr.dataset.id = gone.id;
    tr.appendChild(el('td', clock(gone.at)));
    const idCell = el('td', gone.id, 'id');
    idCell.title = gone.id;
    tr.appendChild(idCell);
    tr.appendChild(el('td', gone.address));
    tr.appendChild(el('td', gone.reason, 'reason-' + gone.reason));
    tr.appendChild(el('td', duration(gone.at - gone.connectedAt)));
    const body = $('disconnections');
    if (atTop) body.insertBefore(tr, body.firstChild);
    else body.appendChild(tr);
    while (body.children.length > 50) body.lastChild!.remove();
  }

  function counts(): void {
    $('spark-count').textContent = String(sparkCount);
    const hidden = sparkCount - rows.size;
    $('sparks-note').textContent = hidden > 0 ? hidden + ' more connected sparks are not listed (the list keeps the first ones; reload to see others).' : '';
    $('sparks-empty').style.display = rows.size ? 'none' : '';
    $('disconnections-empty').style.display = $('disconnections').children.length ? 'none' : '';
  }

  const SVG = 'http://www.w3.org/2000/svg';
  function chart(id: string, keys: Array<keyof Sample>, colors: string[]): void {
    const svg = $(id) as unknown as SVGSVGElement;
    while (svg.firstChild) svg.firstChild.remove();
    const width = 600;
    const height = 140;
    const data = series.slice(-120);
    let max = 1;
    for (const s of data) for (const key of keys) max = Math.max(max, s[key] as number);
    for (let i = 1; i <= 3; i++) {
      const line = document.createElementNS(SVG, 'line');
      const y = String(height - (height - 12) * (i / 3));
      line.setAttribute('x1', '0');
      line.setAttribute('x2', String(width));
      line.setAttribute('y1', y);
      line.setAttribute('y2', y);
      line.setAttribute('stroke', '#e5e7eb');
      svg.appendChild(line);
    }
    const label = document.createElementNS(SVG, 'text');
    label.setAttribute('x', '4');
    label.setAttribute('y', '11');
    label.setAttribute('font-size', '10');
    label.setAttribute('fill', '#6b7280');
    label.textContent = rate(max) + '/s';
    svg.appendChild(label);
    keys.forEach((key, k) => {
      const points = data.map((s, i) => {
        const x = data.length < 2 ? width : (i / (120 - 1)) * width + (120 - data.length) * (width / (120 - 1));
        const y = height - 2 - ((s[key] as number) / max) * (height - 14);
        return x.toFixed(1) + ',' + y.toFixed(1);
      });
      const line = document.createElementNS(SVG, 'polyline');
      line.setAttribute('points', points.join(' '));
      line.setAttribute('fill', 'none');
      line.setAttribute('stroke', colors[k]!);
      line.setAttribute('stroke-width', '2');
      line.setAttribute('vector-effect', 'non-scaling-stroke');
      // The second series dashed, so two equal rates (an echo server's) both show.
      if (k === 1) line.setAttribute('stroke-dasharray', '6 4');
      svg.appendChild(line);
    });
    const last = data[data.length - 1];
    keys.forEach((key) => {
      $(id + '-' + String(key)).textContent = last ? rate(last[key] as number) : '0';
    });
  }

  function charts(): void {
    chart('chart-messages', ['received', 'sent'], ['#2563eb', '#db2777']);
    chart('chart-connections', ['connections', 'disconnections'], ['#059669', '#dc2626']);
  }

  function servers(list: Array<{ id: string; self: boolean }>, note: string): void {
    const ul = $('servers');
    while (ul.firstChild) ul.firstChild.remove();
    for (const server of list) {
      const li = el('li', server.id + (server.self ? ' (this server)' : ''), server.self ? 'self' : '');
      li.dataset.server = server.id;
      ul.appendChild(li);
    }
    $('servers-note').textContent = note;
  }

  const Client = (window as unknown as Record<string, new (url: string, options: unknown) => any>)[config.global]!;
  const primus = new Client(location.origin + '/?token=' + encodeURIComponent(config.token), { reconnect: { min: 500, max: 5000, retries: Infinity } });
  primus.on('open', () => state('live', 'live'));
  primus.on('reconnect scheduled', () => state('reconnecting…', 'down'));
  primus.on('end', () => state('disconnected: reload the page', 'down'));
  primus.on('data', (message: any) => {
    if (!message || typeof message !== 'object') return;
    if (message.type === 'snapshot') {
      skew = message.now - Date.now();
      for (const id of [...rows.keys()]) removeRow(id);
      $('disconnections').textContent = '';
      $('server-name').textContent = message.server.id;
      $('server-meta').textContent = message.server.transformer + ' · ' + message.server.pathname + ' · pid ' + message.server.pid + ' · Node ' + message.server.node;
      message.sparks.forEach(addRow);
      message.disconnections.forEach((gone: Gone) => addGone(gone, false));
      series = message.series;
      sparkCount = message.sparkCount;
      servers(
        message.cluster ? message.cluster.servers : [{ id: message.server.id, self: true }],
        message.cluster ? message.cluster.note : 'A single server (no @primus/redis cluster).',
      );
      counts();
      charts();
    } else if (message.type === 'changes') {
      message.disconnected.forEach((gone: Gone) => {
        removeRow(gone.id);
        addGone(gone, true);
      });
      message.connected.forEach(addRow);
      message.updated.forEach((update: { id: string; lastHeartbeat: number | null; latency: number | null }) => {
        const entry = rows.get(update.id);
        if (!entry) return;
        entry.row.lastHeartbeat = update.lastHeartbeat;
        entry.row.latency = update.latency;
        fill(entry.tr, entry.row);
      });
      sparkCount = message.sparkCount;
      counts();
    } else if (message.type === 'sample') {
      skew = message.now - Date.now();
      series.push(message.sample);
      if (series.length > 120) series.shift();
      charts();
    } else if (message.type === 'cluster') {
      servers(message.servers, message.note);
    } else if (message.type === 'ended' && !message.ok) {
      const entry = rows.get(message.id);
      const button = entry && (entry.tr.querySelector('button') as HTMLButtonElement | null);
      if (button) button.disabled = false;
      $('sparks-note').textContent = 'Spark ' + message.id + ' is no longer connected to this server.';
    }
  });

  $('sparks').addEventListener('click', (event) => {
    const button = (event.target as HTMLElement).closest('button') as HTMLButtonElement | null;
    if (!button || !button.dataset.end) return;
    button.disabled = true;
    primus.write({ type: 'end', id: button.dataset.end });
  });

  setInterval(() => {
    for (const { row, tr } of rows.values()) fill(tr, row);
  }, 1000);
}

const escapeJson = (value: unknown): string =>
  JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');

/** The admin page: self-contained HTML, CSS and script; the only other request is the feed's library. */
export function renderPage(config: PageConfig, nonce: string): string {
  const attr = (value: string): string => value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Primus admin</title>
<style nonce="${nonce}">${STYLE}</style>
</head><body>
<header><h1>Primus admin</h1><span class="meta"><span id="server-name"></span> · <span id="server-meta"></span></span><span id="state">connecting…</span></header>
<main>
<section><h2>Servers</h2><ul class="servers" id="servers"></ul><div class="note" id="servers-note"></div></section>
<section><h2>Messages per second</h2><svg class="chart" id="chart-messages" viewBox="0 0 600 140" preserveAspectRatio="none"></svg>
<div class="legend"><span><i class="swatch c1"></i>received <b id="chart-messages-received">0</b></span><span><i class="swatch c2"></i>sent <b id="chart-messages-sent">0</b></span></div></section>
<section class="wide"><h2>Connected sparks: <span id="spark-count">0</span></h2>
<table><thead><tr><th>ID</th><th>Address</th><th>Transformer</th><th>Connected since</th><th>Last heartbeat</th><th>Latency</th><th></th></tr></thead><tbody id="sparks"></tbody></table>
<div class="empty" id="sparks-empty">No sparks connected.</div><div class="note" id="sparks-note"></div></section>
<section><h2>Connections per second</h2><svg class="chart" id="chart-connections" viewBox="0 0 600 140" preserveAspectRatio="none"></svg>
<div class="legend"><span><i class="swatch c3"></i>connected <b id="chart-connections-connections">0</b></span><span><i class="swatch c4"></i>disconnected <b id="chart-connections-disconnections">0</b></span></div></section>
<section><h2>Recent disconnections</h2>
<table><thead><tr><th>At</th><th>ID</th><th>Address</th><th>Reason</th><th>Connected for</th></tr></thead><tbody id="disconnections"></tbody></table>
<div class="empty" id="disconnections-empty">None yet.</div></section>
</main>
<script type="application/json" id="admin-config">${escapeJson({ token: config.token, global: config.global })}</script>
<script nonce="${nonce}" src="${attr(config.library)}"></script>
<script nonce="${nonce}">(${script.toString()})();</script>
</body></html>
`;
}
