/* The designer's modeler: bpmn-js Modeler with the properties panel. Saves the XML as a new draft version and
   pins the server's validation problems (422 details: element_id, line, message) on the elements. */
(function () {
  'use strict';
  var canvasBox = document.getElementById('canvas');
  if (!canvasBox || !window.BpmnJS) { return; }
  var text = JSON.parse(document.getElementById('modeler-text').textContent);
  var panel = window.BpmnJSPropertiesPanel || {};
  var modules = [panel.BpmnPropertiesPanelModule, panel.BpmnPropertiesProviderModule].filter(Boolean);
  var modeler = new window.BpmnJS({
    container: canvasBox, propertiesPanel: { parent: '#properties' }, additionalModules: modules
  });
  var status = document.getElementById('save-status');
  var problemsPanel = document.getElementById('problems-panel');
  var problemsList = document.getElementById('problems');
  var token = document.querySelector('meta[name=csrf-token]').content;
  var pinned = [];

  function clearProblems() {
    var overlays = modeler.get('overlays');
    var canvas = modeler.get('canvas');
    overlays.remove({ type: 'problem' });
    pinned.forEach(function (id) { canvas.removeMarker(id, 'sl-problem'); });
    pinned = [];
    problemsList.innerHTML = '';
    problemsPanel.hidden = true;
  }

  function showProblems(details) {
    var overlays = modeler.get('overlays');
    var canvas = modeler.get('canvas');
    var registry = modeler.get('elementRegistry');
    details.forEach(function (p) {
      var li = document.createElement('li');
      var where = [];
      if (p.element_id) { where.push(p.element_id); }
      if (p.line) { where.push(text.line.replace('{n}', p.line)); }
      li.textContent = (where.length ? '[' + where.join(' · ') + '] ' : '') + p.message;
      li.dataset.elementId = p.element_id || '';
      var el = p.element_id && registry.get(p.element_id);
      if (el) {
        var pin = document.createElement('div');
        pin.className = 'problem-pin';
        pin.title = p.message;
        pin.textContent = '⚠ ' + p.message;
        pin.dataset.elementId = p.element_id;
        overlays.add(p.element_id, 'problem', { position: { top: -24, left: 0 }, html: pin });
        canvas.addMarker(p.element_id, 'sl-problem');
        pinned.push(p.element_id);
        li.addEventListener('click', function () {
          modeler.get('selection').select(el);
          canvas.scrollToElement ? canvas.scrollToElement(el) : null;
        });
      }
      problemsList.appendChild(li);
    });
    problemsPanel.hidden = details.length === 0;
  }

  function save() {
    clearProblems();
    status.textContent = text.saving;
    modeler.saveXML({ format: true }).then(function (result) {
      return fetch(canvasBox.dataset.save, {
        method: 'POST', credentials: 'same-origin', body: result.xml,
        headers: { 'Content-Type': 'application/xml', 'X-CSRFToken': token, 'Accept': 'application/json' }
      });
    }).then(function (r) {
      return r.json().then(function (body) { return { status: r.status, body: body }; });
    }).then(function (res) {
      if (res.status === 201) {
        status.textContent = res.body.message;
        window.location.href = window.location.pathname + '?definition=' + res.body.id + '&saved=1';
        return;
      }
      var err = res.body.error || {};
      status.textContent = text.failed + ': ' + (err.message || res.status);
      showProblems(err.details || []);
      if ((err.details || []).length) { status.textContent = text.problems; }
    }).catch(function (e) { status.textContent = text.failed + ': ' + e.message; });
  }

  document.getElementById('save-draft').addEventListener('click', save);
  fetch(canvasBox.dataset.src, { credentials: 'same-origin' })
    .then(function (r) { if (!r.ok) { throw new Error('HTTP ' + r.status); } return r.text(); })
    .then(function (xml) { return modeler.importXML(xml); })
    .then(function () { modeler.get('canvas').zoom('fit-viewport', 'auto'); canvasBox.dataset.ready = 'true'; })
    .catch(function (e) { status.textContent = text.loadFailed + ': ' + e.message; canvasBox.dataset.ready = 'error'; });
  window.sunlightModeler = modeler; // for the browser tests
}());
