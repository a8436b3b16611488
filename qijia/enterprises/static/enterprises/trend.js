/* Monthly indicator trend on the enterprise page (Chart.js, vendored UMD build). */
(function () {
  "use strict";
  function draw() {
    var holder = document.getElementById("trend-data");
    var canvas = document.getElementById("trend-chart");
    if (!holder || !canvas || typeof Chart === "undefined") { return; }
    var data = JSON.parse(holder.textContent);
    var select = document.getElementById("trend-measure");
    var chart = null;
    function show(index) {
      var series = data.series[index];
      if (chart) { chart.destroy(); }
      chart = new Chart(canvas, {
        type: "line",
        data: {
          labels: data.months,
          datasets: [{ label: series.label, data: series.values, borderColor: "#1f5fa8",
                       backgroundColor: "rgba(31,95,168,.12)", fill: true, tension: 0.2,
                       pointRadius: 2, spanGaps: true }]
        },
        options: { responsive: true, maintainAspectRatio: false, animation: false,
                   scales: { y: { beginAtZero: true } }, plugins: { legend: { display: true } } }
      });
      canvas.dataset.series = series.key;
    }
    show(select ? Number(select.value) : 0);
    if (select) { select.addEventListener("change", function () { show(Number(select.value)); }); }
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
})();
