/* The designer's DMN editor: dmn-js (the modeler bundle) on one DMN file of a stored version. Opens the decision
   table view (not the DRD), saves the edited XML as a new draft version (the server keeps the version's BPMN and
   its other DMN files), confirms the save, asks before unsaved edits are lost, and marks the rows and cells the
   server refuses (422 details: element_id, line, message). */
(function () {
  'use strict';
  var box = document.getElementById('dmn-canvas');
  if (!box || !window.DmnJS) { return; }
  var text = JSON.parse(document.getElementById('dmn-text').textContent);
  var status = document.getElementById('save-status');
  var problemsPanel = document.getElementById('problems-panel');
  var problemsList = document.getElementById('problems');
  var token = document.querySelector('meta[name=csrf-token]').content;
  // No maintained Chinese translation of dmn-js exists: the labels a designer meets most, in Chinese (the rest
  // stay English), through dmn-js's translate service, as the BPMN modeler does for its properties panel.
  var ZH = {
    'When': '当', 'And': '且', 'Then': '则', 'Annotations': '注释', 'Annotation': '注释', 'View DRD': '查看决策需求图',
    'Hit policy:': '命中策略：', 'Hit policy': '命中策略', 'Unique': '唯一 (Unique)', 'First': '首个 (First)',
    'Priority': '优先 (Priority)', 'Any': '任意 (Any)', 'Collect': '收集 (Collect)',
    'Rule order': '规则顺序 (Rule order)', 'Output order': '输出顺序 (Output order)',
    'Add rule': '添加规则', 'Add rule above': '在上方添加规则', 'Add rule below': '在下方添加规则',
    'Remove rule': '删除规则', 'Copy rule': '复制规则', 'Cut rule': '剪切规则', 'Paste rule above': '粘贴到上方',
    'Paste rule below': '粘贴到下方', 'Add input': '添加输入', 'Add output': '添加输出',
    'Add input column left': '在左侧添加输入列', 'Add input column right': '在右侧添加输入列',
    'Add output column left': '在左侧添加输出列', 'Add output column right': '在右侧添加输出列',
    'Remove input column': '删除输入列', 'Remove output column': '删除输出列', 'Input': '输入', 'Output': '输出',
    'Input label': '输入标签', 'Input expression': '输入表达式', 'Input type': '输入类型', 'Output label': '输出标签',
    'Output name': '输出名称', 'Output type': '输出类型', 'Expression': '表达式', 'Expression language': '表达式语言',
    'Type': '类型', 'Value': '值', 'Values': '值', 'Yes': '是', 'No': '否', 'Edit': '编辑',
    'Add cell description': '添加单元格说明', 'Remove cell description': '删除单元格说明',
    'Decision name': '决策名称', 'Enter expression': '输入表达式', 'Strings must be in double quotes': '字符串须加双引号'
  };
  var modules = [];
  if (document.documentElement.lang === 'zh-CN') {
    modules.push({ translate: ['value', function (template, replacements) {
      replacements = replacements || {};
      return (ZH[template] || template).replace(/{([^}]+)}/g, function (_, key) {
        return replacements[key] !== undefined ? replacements[key] : '{' + key + '}';
      });
    }] });
  }
  // Per view: dmn-js replaces (not merges) `common.additionalModules` with each view's own.
  var dmnJS = new window.DmnJS({ container: box, drd: { additionalModules: modules },
                                 decisionTable: { additionalModules: modules },
                                 literalExpression: { additionalModules: modules } });
  var dirty = false;  // an edit since the file was opened or saved
  var watched = [];   // the viewers whose edits already set `dirty`

  function watchActive() {
    var viewer = dmnJS.getActiveViewer();
    if (!viewer || watched.indexOf(viewer) >= 0) { return; }
    watched.push(viewer);
    viewer.on('elements.changed', function () { dirty = true; });
  }

  function openFirstTable() {
    // A decision table is what the designer edits here; dmn-js would open the DRD first.
    var table = dmnJS.getViews().filter(function (v) { return v.type === 'decisionTable'; })[0];
    return table ? dmnJS.open(table) : Promise.resolve();
  }

  function clearProblems() {
    Array.prototype.forEach.call(box.querySelectorAll('.sl-problem-cell'), function (el) {
      el.classList.remove('sl-problem-cell');
    });
    problemsList.innerHTML = '';
    problemsPanel.hidden = true;
  }

  function markCells(id) {
    var sel = '[data-element-id="' + id + '"], [data-row-id="' + id + '"], [data-col-id="' + id + '"]';
    Array.prototype.forEach.call(box.querySelectorAll(sel), function (el) { el.classList.add('sl-problem-cell'); });
  }

  function showProblems(details) {
    details.forEach(function (p) {
      var where = [];
      if (p.element_id) { where.push(p.element_id); markCells(p.element_id); }
      if (p.line) { where.push(text.line.replace('{n}', p.line)); }
      var li = document.createElement('li');
      li.textContent = (where.length ? '[' + where.join(' · ') + '] ' : '') + (p.shown || p.message);
      problemsList.appendChild(li);
    });
    problemsPanel.hidden = details.length === 0;
  }

  function answered(res) {
    if (res.status === 201) {
      dirty = false;
      status.textContent = res.body.message;
      status.classList.add('ok');
      var next = (res.body.dmn || []).filter(function (f) { return f.file === box.dataset.file; })[0];
      var link = document.createElement('a');
      link.href = box.dataset.modeler + '?definition=' + res.body.id;
      link.id = 'saved-version';
      link.textContent = text.open;
      status.appendChild(document.createTextNode(' '));
      status.appendChild(link);
      box.dataset.savedId = String(res.body.id);
      box.dataset.savedFile = next ? String(next.id) : '';
      return;
    }
    var err = res.body.error || {};
    status.textContent = text.failed + ': ' + (err.message || res.status);
    showProblems(err.details || []);
    if ((err.details || []).length) { status.textContent = text.problems; }
  }

  function save() {
    clearProblems();
    status.classList.remove('ok');
    status.textContent = text.saving;
    dmnJS.saveXML({ format: true }).then(function (result) {
      return fetch(box.dataset.save, {
        method: 'POST', credentials: 'same-origin', body: result.xml,
        headers: { 'Content-Type': 'application/xml', 'X-CSRFToken': token, 'Accept': 'application/json' }
      });
    }).then(function (r) {
      return r.json().then(function (body) { return { status: r.status, body: body }; });
    }).then(answered).catch(function (e) { status.textContent = text.failed + ': ' + e.message; });
  }

  window.addEventListener('beforeunload', function (e) {
    if (dirty) { e.preventDefault(); e.returnValue = ''; }
  });
  dmnJS.on('views.changed', watchActive);
  document.getElementById('save-dmn').addEventListener('click', save);
  fetch(box.dataset.src, { credentials: 'same-origin' })
    .then(function (r) { if (!r.ok) { throw new Error('HTTP ' + r.status); } return r.text(); })
    .then(function (xml) { return dmnJS.importXML(xml); })
    .then(openFirstTable)
    .then(function () { watchActive(); box.dataset.ready = 'true'; })
    .catch(function (e) { status.textContent = text.loadFailed + ': ' + e.message; box.dataset.ready = 'error'; });
  window.sunlightDmn = dmnJS; // for the browser tests
}());
