/** The console's style sheet: system fonts only (nothing fetched from the internet). Sized for 1280 px wide and 64 lines. */
export const STYLE_CSS = `
:root { --bg: #f6f7f9; --panel: #fff; --ink: #1d2430; --muted: #667085; --line: #d0d5dd; --hot: #0b63ce; --hot-bg: #e3efff; --ok: #127a3a; --bad: #b42318; --replay: #dc6803; --replay-bg: #fef0c7; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink); font: 13px/1.35 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
header { position: sticky; top: 0; z-index: 5; display: flex; align-items: center; gap: 14px; padding: 6px 14px; background: #1d2430; color: #fff; }
header h1 { font-size: 16px; margin: 0; white-space: nowrap; }
header .muted { color: #b8c0cc; }
.spacer { flex: 1; }
nav a { color: #d0d5dd; text-decoration: none; padding: 4px 9px; border-radius: 4px; }
nav a.on { background: #344054; color: #fff; }
.conn { font-size: 12px; padding: 2px 8px; border-radius: 10px; white-space: nowrap; }
.conn.on { background: var(--ok); }
.conn.off { background: var(--bad); }
#subhead { display: flex; gap: 18px; padding: 4px 14px; color: var(--muted); font-size: 12px; border-bottom: 1px solid var(--line); background: #fff; }
#toast.good { color: var(--ok); font-weight: 600; }
#toast.bad { color: var(--bad); font-weight: 600; }
main { padding: 8px 14px; }
h2 { font-size: 14px; margin: 14px 0 6px; }
.muted { color: var(--muted); font-weight: normal; }
.small { font-size: 11px; }
table { border-collapse: collapse; width: 100%; background: var(--panel); border: 1px solid var(--line); }
th, td { text-align: left; padding: 2px 5px; border-bottom: 1px solid #eaecf0; white-space: nowrap; }
thead th { position: sticky; top: 36px; background: #f2f4f7; font-size: 11px; color: var(--muted); font-weight: 600; z-index: 2; }
th.num, td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.empty { color: var(--muted); font-style: italic; }
td.line-id { font-weight: 600; font-family: ui-monospace, "DejaVu Sans Mono", monospace; }
td.err { color: var(--bad); max-width: 150px; overflow: hidden; text-overflow: ellipsis; }
td.addr { max-width: 150px; overflow: hidden; text-overflow: ellipsis; }
td.oos { color: #fff; background: var(--bad); font-weight: 600; font-size: 11px; }
td.state.listening { color: var(--ok); }
td.state.state-failed { color: var(--bad); font-weight: 600; }
tr.out td { background: #fff5f4; }
tr.more td { border-top: none; }
#lines td:nth-child(n+5) { font-variant-numeric: tabular-nums; }
button { font: inherit; font-size: 11px; padding: 0 6px; border: 1px solid var(--line); border-radius: 4px; background: #fff; cursor: pointer; }
button:hover { border-color: var(--hot); }
button.danger { color: var(--bad); border-color: #fda29b; }
button.act + button.act { margin-left: 4px; }
.outcome-accepted { color: var(--ok); font-weight: 600; }
.outcome-bad-credentials, .outcome-policy, .outcome-outage, .outcome-internal-error, .outcome-refused-locked, .outcome-refused-penalty { color: var(--bad); font-weight: 600; }
dl#counters { display: flex; flex-wrap: wrap; gap: 4px 18px; margin: 0 0 8px; }
dl#counters div { display: flex; gap: 6px; }
dt { color: var(--muted); }
dd { margin: 0; font-variant-numeric: tabular-nums; font-weight: 600; }
.inline-form { margin: 10px 0; }
.inline-form input { font: inherit; padding: 1px 4px; margin: 0 6px; }
dialog { border: 1px solid var(--line); border-radius: 8px; padding: 14px 18px; max-width: 520px; }
dialog::backdrop { background: rgba(16, 24, 40, 0.35); }
dialog .buttons { display: flex; justify-content: flex-end; gap: 8px; }
#replay { display: flex; flex-wrap: wrap; align-items: center; gap: 6px; padding: 6px 0; position: sticky; top: 36px; background: var(--bg); z-index: 3; }
#replay select { font: inherit; max-width: 420px; }
#replay-step { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12px; }
.chart { margin: 8px 0 14px; background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 4px 8px; }
.chart > summary { cursor: pointer; margin: 2px 0 6px; font-size: 14px; font-weight: 600; }
.chart .mname { font-family: ui-monospace, "DejaVu Sans Mono", monospace; margin-right: 10px; }
.diagram { overflow: auto; max-height: 78vh; }
.diagram svg { display: block; max-width: 100%; height: auto; }
.tally { font-size: 12px; font-weight: normal; color: var(--muted); }
.tally.hot { color: #fff; background: var(--hot); border-radius: 9px; padding: 0 7px; }
.tally.replaying { color: #fff; background: var(--replay); border-radius: 9px; padding: 0 7px; }
svg.statechart .state.active > rect { stroke: var(--hot); stroke-width: 2.5; fill: var(--hot-bg); }
svg.statechart .state.active > .badge { display: inline; }
svg.statechart .state.replay > rect { stroke: var(--replay); stroke-width: 2.5; fill: var(--replay-bg); }
svg.statechart .edge.taken path { stroke: var(--replay); stroke-width: 3; }
svg.statechart .edge.taken .label { fill: var(--replay); font-weight: 700; }
`;
