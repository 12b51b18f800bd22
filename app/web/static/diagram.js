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
      box.dataset.ready = 'true';
    })
    .catch(function (err) {
      var p = document.createElement('p');
      p.className = 'load-error';
      p.textContent = '⚠ ' + err.message;
      box.appendChild(p);
      box.dataset.ready = 'error';
    });
}());
