/* Read-only diagrams (bpmn-js NavigatedViewer): the item's flow, a case with its current and completed steps,
   a version under review with its changed elements. The bpmn.io logo stays, as its licence asks. */
(function () {
  'use strict';
  var box = document.getElementById('diagram');
  if (!box || !window.BpmnJS) { return; }
  var viewer = new window.BpmnJS({ container: box });
  var states = JSON.parse(box.dataset.states || '{}');
  var changed = JSON.parse(box.dataset.changed || '[]');
  fetch(box.dataset.src, { credentials: 'same-origin' })
    .then(function (r) { if (!r.ok) { throw new Error('HTTP ' + r.status); } return r.text(); })
    .then(function (xml) { return viewer.importXML(xml); })
    .then(function () {
      var canvas = viewer.get('canvas');
      var registry = viewer.get('elementRegistry');
      canvas.zoom('fit-viewport', 'auto');
      Object.keys(states).forEach(function (id) {
        if (registry.get(id)) { canvas.addMarker(id, states[id] === 'current' ? 'sl-current' : 'sl-done'); }
      });
      changed.forEach(function (id) { if (registry.get(id)) { canvas.addMarker(id, 'sl-changed'); } });
      tools(canvas);
      box.dataset.ready = 'true';
    })
    .catch(function (err) {
      var p = document.createElement('p');
      p.className = 'load-error';
      p.textContent = '⚠ ' + err.message;
      box.appendChild(p);
      box.dataset.ready = 'error';
    });

  /* Zoom buttons, full screen (Esc leaves it) and a box the reader can make taller: the case page's diagram
     is read at a window, where a flow of twenty steps fitted into a strip is too small to read. */
  function tools(canvas) {
    var bar = document.getElementById('diagram-tools');
    if (!bar) { return; }
    var full = function (on) {
      box.classList.toggle('full', on);
      bar.classList.toggle('full', on);
      canvas.resized();
      canvas.zoom('fit-viewport', 'auto');
    };
    bar.addEventListener('click', function (event) {
      var what = event.target.dataset && event.target.dataset.zoom;
      if (what === 'in' || what === 'out') {
        canvas.zoom(canvas.zoom() * (what === 'in' ? 1.25 : 0.8));
      } else if (what === 'fit') {
        canvas.zoom('fit-viewport', 'auto');
      } else if (what === 'full') {
        full(!box.classList.contains('full'));
      }
    });
    document.addEventListener('keydown', function (event) {
      if (event.key === 'Escape' && box.classList.contains('full')) { full(false); }
    });
    if (window.ResizeObserver) { new window.ResizeObserver(function () { canvas.resized(); }).observe(box); }
  }
}());
