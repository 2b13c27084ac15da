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
  <span id="conn" class="conn off">connecting</span>
  <span id="started" class="muted"></span>
</header>
<main>
  <section class="panel" id="lines-panel">
    <h2>Lines</h2>
    <table id="lines"><thead><tr><th>Line</th><th>State</th><th class="num">Active calls</th><th>Last error</th></tr></thead><tbody></tbody></table>
  </section>
  <section class="panel" id="counters-panel">
    <h2>Counters</h2>
    <dl id="counters"></dl>
  </section>
  <section class="panel wide" id="recent-panel">
    <h2>Recent calls</h2>
    <table id="recent"><thead><tr><th>Ended</th><th>Line</th><th>Peer</th><th>User</th><th>Outcome</th><th class="num">Duration</th></tr></thead><tbody></tbody></table>
  </section>
  <section class="panel wide" id="actors-panel">
    <h2>Live machines <span id="actor-count" class="muted"></span></h2>
    <table id="actors"><thead><tr><th>Machine</th><th>Line</th><th>Call</th><th>State</th></tr></thead><tbody></tbody></table>
  </section>
  <section class="panel wide" id="charts-panel">
    <h2>Statecharts</h2>
    <p class="muted">From the machine definitions. Highlighted: states live actors are in now, with how many.</p>
    <div id="charts"></div>
  </section>
</main>
</body>
</html>
`;
