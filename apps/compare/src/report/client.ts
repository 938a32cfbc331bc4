/**
 * The script that runs in the report page: embeds each chart with vega-embed, keeps its view in
 * `window.reportViews`, and marks its container rendered or errored, then the body ready. Plain ES5 text, never executed in Node.
 */

/** Runs in the page: embeds every chart and marks its container rendered (or errored). */
export const CLIENT = `
(function () {
  "use strict";
  var charts = JSON.parse(document.getElementById("report-charts").textContent);
  // Each chart's vega view by chart id, so a test can read back the data a chart draws.
  var views = (window.reportViews = {});
  var dark = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches;
  var jobs = charts.map(function (chart) {
    var figure = document.querySelector('[data-chart="' + chart.id + '"]');
    if (!figure || !chart.spec) return Promise.resolve();
    var target = figure.querySelector(".vega");
    var options = { actions: false, renderer: "svg", config: { background: "transparent" } };
    if (dark) options.theme = "dark";
    return vegaEmbed(target, chart.spec, options).then(
      function (result) {
        views[chart.id] = result.view;
        figure.setAttribute("data-rendered", "true");
      },
      function (err) {
        figure.setAttribute("data-error", String((err && err.message) || err));
        console.error("report: chart " + chart.id + " failed to render:", err);
      }
    );
  });
  Promise.all(jobs).then(function () { document.body.setAttribute("data-report-ready", "true"); });
})();
`;
