/** The console's style sheet: system fonts only (nothing fetched from the internet). */
export const STYLE_CSS = `
:root { --bg: #f6f7f9; --panel: #fff; --ink: #1d2430; --muted: #667085; --line: #d0d5dd; --hot: #0b63ce; --hot-bg: #e3efff; --ok: #127a3a; --bad: #b42318; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink); font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
header { display: flex; align-items: baseline; gap: 1em; padding: 10px 18px; background: #1d2430; color: #fff; }
header h1 { font-size: 18px; margin: 0; }
header .muted { color: #b8c0cc; }
.conn { font-size: 12px; padding: 2px 8px; border-radius: 10px; }
.conn.on { background: var(--ok); }
.conn.off { background: var(--bad); }
main { display: grid; grid-template-columns: 1fr 1fr; gap: 14px; padding: 14px 18px; }
.panel { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 10px 14px; min-width: 0; }
.panel.wide { grid-column: 1 / -1; }
h2 { font-size: 15px; margin: 0 0 8px; }
.muted { color: var(--muted); font-weight: normal; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 3px 8px; border-bottom: 1px solid #eaecf0; white-space: nowrap; }
th { font-size: 12px; color: var(--muted); font-weight: 600; }
th.num, td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.empty { color: var(--muted); font-style: italic; }
.outcome-accepted { color: var(--ok); font-weight: 600; }
.outcome-bad-credentials, .outcome-policy, .outcome-outage, .outcome-internal-error, .outcome-refused-locked, .outcome-refused-penalty { color: var(--bad); font-weight: 600; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 0; }
dt { color: var(--muted); }
dd { margin: 0; font-variant-numeric: tabular-nums; }
.chart { margin: 10px 0 18px; }
.chart > summary { cursor: pointer; margin: 0 0 6px; font-size: 14px; font-weight: 600; }
.chart .mname { font-family: ui-monospace, "DejaVu Sans Mono", monospace; margin-right: 10px; }
.tally { font-size: 12px; font-weight: normal; color: var(--muted); }
.tally.hot { color: #fff; background: var(--hot); border-radius: 9px; padding: 0 7px; }
.state { border: 1px solid var(--line); border-radius: 6px; padding: 4px 6px; margin: 3px; background: #fff; min-width: 110px; }
.state.final { border-style: double; border-width: 3px; }
.state.active { border-color: var(--hot); background: var(--hot-bg); box-shadow: 0 0 0 1px var(--hot); }
.state .head { display: flex; align-items: center; gap: 6px; font-weight: 600; font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12px; }
.state .initial::before { content: "\\25B8 "; color: var(--muted); }
.badge { display: none; background: var(--hot); color: #fff; border-radius: 9px; padding: 0 6px; font-size: 11px; }
.state.active > .head > .badge { display: inline-block; }
.state .invoke { color: #7a5af8; font-size: 11px; font-family: ui-monospace, monospace; }
.state ul { list-style: none; margin: 2px 0 0; padding: 0; font-size: 11px; color: var(--muted); font-family: ui-monospace, "DejaVu Sans Mono", monospace; }
.state li .ev { color: var(--ink); }
.children { display: flex; flex-wrap: wrap; align-items: flex-start; margin-top: 3px; }
`;
