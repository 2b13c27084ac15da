/** The console page. No inline script or style (CSP `default-src 'self'`): /app.js and /style.css. */
export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>rasgate console</title>
<link rel="stylesheet" href="/style.css">
<script src="/app.js" defer></script>
</head>
<body>
<header>
  <h1>rasgate console</h1>
  <nav id="tabs">
    <a href="#lines" data-tab="lines">Lines</a>
    <a href="#charts" data-tab="charts">Statecharts</a>
    <a href="#recent" data-tab="recent">Recent calls</a>
    <a href="#guard" data-tab="guard">Lockouts</a>
    <a href="#machines" data-tab="machines">Live machines</a>
  </nav>
  <span class="spacer"></span>
  <span id="operator" class="muted"></span>
  <span id="conn" class="conn off">connecting</span>
</header>
<div id="subhead"><span id="started"></span><span id="tz"></span><span id="toast" role="status"></span></div>
<main>
  <section class="tab" id="tab-lines">
    <dl id="counters"></dl>
    <table id="lines">
      <thead><tr><th>Line</th><th>Address</th><th>State</th><th>Service</th><th>Call</th><th>User</th><th>Caller ID / peer</th><th>Started</th><th>Call state</th><th class="num">In state</th><th class="num">Bytes in / out</th><th>Last error</th><th></th></tr></thead>
      <tbody></tbody>
    </table>
  </section>
  <section class="tab" id="tab-charts" hidden>
    <div id="replay">
      <label>Replay a call <select id="replay-call"><option value="">choose a call</option></select></label>
      <button type="button" id="replay-first" title="first step">|&#x25C0;</button>
      <button type="button" id="replay-prev" title="previous step">&#x25C0;</button>
      <button type="button" id="replay-next" title="next step">&#x25B6;</button>
      <button type="button" id="replay-last" title="last step">&#x25B6;|</button>
      <button type="button" id="replay-stop" title="back to live">live</button>
      <span id="replay-step" class="muted"></span>
    </div>
    <p class="muted">From the machine definitions, laid out by elkjs. Highlighted: the states live actors are in now, with how many. Replaying a call shows its steps instead (the arrow taken in orange).</p>
    <div id="charts"></div>
  </section>
  <section class="tab" id="tab-recent" hidden>
    <table id="recent"><thead><tr><th>Ended</th><th>Line</th><th>Call</th><th>Caller ID / peer</th><th>User</th><th>Outcome</th><th class="num">Duration</th><th class="num">Bytes in / out</th><th></th></tr></thead><tbody></tbody></table>
  </section>
  <section class="tab" id="tab-guard" hidden>
    <h2>Accounts locked</h2>
    <table id="lockouts"><thead><tr><th>Account</th><th class="num">Failures</th><th>Until</th><th></th></tr></thead><tbody></tbody></table>
    <h2>Sources under penalty</h2>
    <table id="penalties"><thead><tr><th>Source</th><th class="num">Failures</th><th>Until</th><th></th></tr></thead><tbody></tbody></table>
    <form id="by-name" class="inline-form"><label>Unlock an account <input id="unlock-name" maxlength="128" autocomplete="off"></label><button type="submit">Unlock&#x2026;</button></form>
    <form id="by-source" class="inline-form"><label>Clear the penalty of a source <input id="clear-source" maxlength="128" autocomplete="off"></label><button type="submit">Clear&#x2026;</button></form>
  </section>
  <section class="tab" id="tab-machines" hidden>
    <table id="actors"><thead><tr><th>Machine</th><th>Line</th><th>Call</th><th>State</th><th class="num">In state</th></tr></thead><tbody></tbody></table>
  </section>
</main>
<dialog id="confirm">
  <p id="confirm-text"></p>
  <div class="buttons"><button type="button" id="confirm-cancel">Cancel</button> <button type="button" id="confirm-ok" class="danger">Confirm</button></div>
</dialog>
</body>
</html>
`;
