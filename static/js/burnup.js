/* Burn-up charts: actual vs pace line vs target over the working days of a goal, holidays marked.
 *
 * Markup (no inline script, so a strict Content-Security-Policy can forbid them):
 *   <canvas data-burnup="ID" role="img" aria-label="…"></canvas>
 *   {{ chart_data|json_script:"ID" }}   → {kpi, labels, actual, pace, target, holidays: [{at, label}]}
 * Drawn on page load and again on content swapped in by htmx. Needs Chart.js 4 (static/vendor/chartjs).
 */
(function () {
  "use strict";

  var COLORS = { actual: "#14532d", pace: "#6c757d", target: "#b91c1c", holiday: "#b45309" };

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
        ],
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
