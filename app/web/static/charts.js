/* Charts of the assessment pages, drawn with Apache ECharts (vendor/echarts, from npm; no CDN).
   Every chart reads its data from a <script type="application/json"> element next to it, so the pages carry
   no inline script. Elements: <div class="echart" data-chart="ID"> + <script type="application/json" id="ID">. */
(function () {
  "use strict";
  var COLOURS = {warning: "#f0b429", yellow: "#e6c300", red: "#d64545", score: "#2f6fb2"};

  function bars(spec) {  // {labels, series: [{name, key, values}], stacked, max, horizontal}
    var category = {type: "category", data: spec.labels, axisLabel: {interval: 0, rotate: spec.labels.length > 8 ? 40 : 0}};
    var value = {type: "value", max: spec.max || null, minInterval: 1};
    return {
      tooltip: {trigger: "axis"},
      legend: spec.series.length > 1 ? {top: 0} : undefined,
      grid: {left: 48, right: spec.horizontal ? 56 : 16, top: spec.series.length > 1 ? 32 : 16,
             bottom: spec.labels.length > 8 ? 90 : 40, containLabel: true},
      xAxis: spec.horizontal ? value : category,
      yAxis: spec.horizontal ? category : value,
      series: spec.series.map(function (s) {
        return {name: s.name, type: "bar", stack: spec.stacked ? "all" : undefined, data: s.values,
                itemStyle: {color: COLOURS[s.key] || undefined}, barMaxWidth: 28,
                label: {show: !spec.stacked, position: spec.horizontal ? "right" : "top",
                        formatter: spec.unit ? "{c}" + spec.unit : "{c}"}};
      }),
      animation: false
    };
  }

  function draw(el) {
    var source = document.getElementById(el.getAttribute("data-chart"));
    if (!source || !window.echarts) { return; }
    var chart = window.echarts.init(el, null, {renderer: "svg"});
    chart.setOption(bars(JSON.parse(source.textContent)));
    window.addEventListener("resize", function () { chart.resize(); });
    window.addEventListener("beforeprint", function () { chart.resize(); });
  }

  document.querySelectorAll(".echart[data-chart]").forEach(draw);
})();
