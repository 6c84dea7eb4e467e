/* Burn-up charts: actual vs pace line vs target over the working days of a goal, holidays marked.
 *
 * Markup (no inline script, so a strict Content-Security-Policy can forbid them):
 *   <canvas data-burnup="ID" role="img" aria-label="…"></canvas>
 *   {{ chart_data|json_script:"ID" }}   → {kpi, labels, actual, pace, target, forecast, forecast_low,
 *                                          forecast_high, holidays: [{at, label}]}
 * The forecast runs from today's actual value to the forecast at the due date, inside a shaded band from
 * the likely low (P10) to the likely high (P90).
 * Drawn on page load and again on content swapped in by htmx. Needs Chart.js 4 (static/vendor/chartjs).
 */
(function () {
  "use strict";

  var COLORS = { actual: "#14532d", pace: "#6c757d", target: "#b91c1c", holiday: "#b45309", forecast: "#1d4ed8" };

  // Dashed vertical lines between the working days around each holiday, with a small label.
  var holidayMarkers = {
    id: "pacerHolidays",
    afterDatasetsDraw: function (chart, args, options) {
      var holidays = options.holidays || [];
      if (!holidays.length) return;
      var x = chart.scales.x, area = chart.chartArea, ctx = chart.ctx;
      ctx.save();
      ctx.strokeStyle = COLORS.holiday;
      ctx.fillStyle = COLORS.holiday;
      ctx.setLineDash([4, 4]);
      ctx.lineWidth = 1.5;
      ctx.font = "11px system-ui, sans-serif";
      ctx.textAlign = "center";
      holidays.forEach(function (holiday) {
        var px = x.getPixelForValue(Math.max(holiday.at, -0.5));
        if (px < area.left - 1 || px > area.right + 1) return;
        ctx.beginPath();
        ctx.moveTo(px, area.top + 14);
        ctx.lineTo(px, area.bottom);
        ctx.stroke();
        ctx.fillText(holiday.label, px, area.top + 10);
      });
      ctx.restore();
    },
  };

  // The forecast line and its likely range (P90 filled down to P10), when the goal has days left.
  function forecastDatasets(data) {
    var has = (data.forecast || []).some(function (value) { return value !== null; });
    if (!has) return [];
    return [
      { label: "Forecast", data: data.forecast, borderColor: COLORS.forecast, borderDash: [3, 3], borderWidth: 2,
        pointRadius: 0, pointHitRadius: 6, fill: false, spanGaps: false },
      { label: "Likely high (P90)", data: data.forecast_high, borderColor: "rgba(29, 78, 216, .35)", borderWidth: 1,
        backgroundColor: "rgba(29, 78, 216, .12)", pointRadius: 0, pointHitRadius: 6, fill: "+1", spanGaps: false },
      { label: "Likely low (P10)", data: data.forecast_low, borderColor: "rgba(29, 78, 216, .35)", borderWidth: 1,
        pointRadius: 0, pointHitRadius: 6, fill: false, spanGaps: false },
    ];
  }

  function draw(canvas) {
    var source = document.getElementById(canvas.dataset.burnup);
    if (!source || typeof window.Chart === "undefined") return;
    var data = JSON.parse(source.textContent);
    var existing = window.Chart.getChart(canvas);
    if (existing) existing.destroy();
    var targetLine = data.labels.map(function () { return data.target; });
    var lastActual = -1;
    data.actual.forEach(function (value, i) { if (value !== null) lastActual = i; });
    new window.Chart(canvas, {
      type: "line",
      data: {
        labels: data.labels,
        datasets: [
          { label: "Actual", data: data.actual, borderColor: COLORS.actual, backgroundColor: "rgba(20, 83, 45, .12)",
            fill: "origin", borderWidth: 2.5, pointHitRadius: 6, spanGaps: false,
            pointBackgroundColor: COLORS.actual,
            pointRadius: function (ctx) { return ctx.dataIndex === lastActual ? 4 : 0; } },
          { label: "Pace", data: data.pace, borderColor: COLORS.pace, borderDash: [6, 4], borderWidth: 2,
            pointRadius: 0, pointHitRadius: 6, fill: false },
          { label: "Target", data: targetLine, borderColor: COLORS.target, borderWidth: 1.5, pointRadius: 0,
            pointHitRadius: 0, fill: false },
        ].concat(forecastDatasets(data)),
      },
      options: {
        responsive: true,
        maintainAspectRatio: true,
        aspectRatio: window.matchMedia("(max-width: 576px)").matches ? 1.3 : 2,
        animation: false,
        interaction: { mode: "index", intersect: false },
        scales: {
          x: { ticks: { autoSkip: true, maxTicksLimit: 8, maxRotation: 0 }, grid: { display: false } },
          y: { beginAtZero: true, title: { display: true, text: data.kpi } },
        },
        plugins: {
          legend: { position: "bottom", labels: { boxHeight: 2 } },
          pacerHolidays: { holidays: data.holidays || [] },
          tooltip: { filter: function (item) { return item.raw !== null; } },
        },
      },
      plugins: [holidayMarkers],
    });
  }

  function drawAll(root) {
    var scope = root && root.querySelectorAll ? root : document;
    if (scope.matches && scope.matches("canvas[data-burnup]")) draw(scope);
    scope.querySelectorAll("canvas[data-burnup]").forEach(draw);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { drawAll(document); });
  } else {
    drawAll(document);
  }
  // htmx fires htmx:load on every element it swaps in (after the initial page load too).
  document.addEventListener("htmx:load", function (event) {
    if (event.target !== document.body) drawAll(event.target);
  });
})();
