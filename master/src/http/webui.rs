//! The web UI at `/`: one page that reads `/master/state` and shows the
//! cluster, its agents, frameworks and tasks, refreshed every two seconds.

use libprocess::{Reply, Response};

/// Serves the page.
pub fn index() -> Reply {
    Reply::Now(Response::ok("text/html; charset=utf-8", INDEX_HTML))
}

const INDEX_HTML: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>mesos-rs master</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
  h1 { font-size: 1.3em; margin: 0 0 .2em; } h2 { font-size: 1.1em; margin: 1.4em 0 .4em; }
  .meta { color: #666; } .meta a { margin-right: 1em; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: .25em .6em; border-bottom: 1px solid #e4e4e4; }
  th { background: #f5f5f5; font-weight: 600; }
  .num { text-align: right; font-variant-numeric: tabular-nums; }
  .TASK_RUNNING { color: #1a7f37; } .TASK_FINISHED { color: #555; }
  .TASK_FAILED, .TASK_LOST, .TASK_ERROR, .TASK_DROPPED { color: #c0392b; }
  .cards { display: flex; gap: 1em; flex-wrap: wrap; }
  .card { border: 1px solid #e4e4e4; border-radius: 6px; padding: .5em 1em; min-width: 8em; }
  .card b { display: block; font-size: 1.3em; }
</style>
</head>
<body>
<h1>mesos-rs master</h1>
<div class="meta" id="meta">loading /master/state ...</div>
<div class="meta"><a href="/master/state">/master/state</a><a href="/metrics/snapshot">/metrics/snapshot</a><a href="/__processes__">/__processes__</a><a href="/help">/help</a></div>
<h2>Cluster</h2><div class="cards" id="cards"></div>
<h2>Agents</h2><table><thead><tr><th>ID</th><th>Host</th><th>PID</th><th class="num">CPUs</th><th class="num">Mem (MB)</th><th class="num">Disk (MB)</th><th>Active</th></tr></thead><tbody id="agents"></tbody></table>
<h2>Frameworks</h2><table><thead><tr><th>ID</th><th>Name</th><th>Role</th><th>Active</th><th class="num">Tasks</th><th class="num">CPUs</th><th class="num">Mem (MB)</th></tr></thead><tbody id="frameworks"></tbody></table>
<h2>Tasks</h2><table><thead><tr><th>ID</th><th>Name</th><th>State</th><th>Framework</th><th>Agent</th></tr></thead><tbody id="tasks"></tbody></table>
<script>
const esc = s => String(s ?? '').replace(/[&<>"]/g, c => ({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;'}[c]));
const num = v => (v ?? 0).toLocaleString(undefined, {maximumFractionDigits: 2});
const rows = (id, items, cells) => {
  document.getElementById(id).innerHTML = items.map(i => '<tr>' + cells(i).join('') + '</tr>').join('')
    || '<tr><td colspan="7" class="meta">none</td></tr>';
};
async function refresh() {
  try {
    const s = await (await fetch('/master/state')).json();
    document.getElementById('meta').textContent =
      `${s.pid} · version ${s.version} · leader ${s.leader || '-'} · started ${new Date(s.start_time * 1000).toLocaleString()}`;
    const total = {cpus: 0, mem: 0}, used = {cpus: 0, mem: 0};
    for (const a of s.slaves) { total.cpus += a.resources.cpus || 0; total.mem += a.resources.mem || 0;
                                used.cpus += a.used_resources.cpus || 0; used.mem += a.used_resources.mem || 0; }
    const tasks = [];
    for (const f of s.frameworks.concat(s.completed_frameworks))
      for (const t of f.tasks.concat(f.completed_tasks)) tasks.push(t);
    const running = tasks.filter(t => t.state === 'TASK_RUNNING').length;
    document.getElementById('cards').innerHTML = [
      ['Agents', s.activated_slaves], ['Frameworks', s.frameworks.length], ['Running tasks', running],
      ['CPUs used', `${num(used.cpus)} / ${num(total.cpus)}`], ['Mem used (MB)', `${num(used.mem)} / ${num(total.mem)}`],
    ].map(([k, v]) => `<div class="card">${k}<b>${esc(v)}</b></div>`).join('');
    rows('agents', s.slaves, a => [`<td>${esc(a.id)}</td>`, `<td>${esc(a.hostname)}</td>`, `<td>${esc(a.pid)}</td>`,
      `<td class="num">${num(a.resources.cpus)}</td>`, `<td class="num">${num(a.resources.mem)}</td>`,
      `<td class="num">${num(a.resources.disk)}</td>`, `<td>${a.active}</td>`]);
    rows('frameworks', s.frameworks, f => [`<td>${esc(f.id)}</td>`, `<td>${esc(f.name)}</td>`, `<td>${esc(f.role)}</td>`,
      `<td>${f.active}</td>`, `<td class="num">${f.tasks.length}</td>`,
      `<td class="num">${num(f.used_resources.cpus)}</td>`, `<td class="num">${num(f.used_resources.mem)}</td>`]);
    rows('tasks', tasks.slice(-200).reverse(), t => [`<td>${esc(t.id)}</td>`, `<td>${esc(t.name)}</td>`,
      `<td class="${esc(t.state)}">${esc(t.state)}</td>`, `<td>${esc(t.framework_id)}</td>`, `<td>${esc(t.slave_id)}</td>`]);
  } catch (e) {
    document.getElementById('meta').textContent = 'cannot read /master/state: ' + e;
  }
}
refresh(); setInterval(refresh, 2000);
</script>
</body>
</html>
"#;
