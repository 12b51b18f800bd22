/* The designer's modeler: bpmn-js Modeler with the properties panel (BPMN and Camunda providers: conditions,
   scripts, timers, messages, multi-instance collections and element variables, service-task topics, decision
   references). Saves the XML as a new draft version, confirms the save, asks before unsaved edits are lost, and
   pins the server's validation problems (422 details: element_id, line, message) on the elements; while drawing,
   bpmnlint (bpmn-js-bpmnlint with Sunlight's rules, lint-rules.js) marks what the server would refuse. */
(function () {
  'use strict';
  var PANEL_ZH = {
    'General': '常规', 'Name': '名称', 'ID': '编号', 'Documentation': '文档', 'Element documentation': '元素文档',
    'Process documentation': '流程文档', 'Timer': '定时器', 'Type': '类型', 'Value': '值', 'Condition': '条件',
    'Condition expression': '条件表达式', 'Expression': '表达式', 'Script': '脚本', 'Format': '格式',
    'Inline script': '内联脚本', 'Result variable': '结果变量', 'Date': '日期', 'Duration': '时长', 'Cycle': '循环',
    'Version tag': '版本标签', 'Executable': '可执行', 'Process ID': '流程编号', 'Process name': '流程名称',
    'Multi-instance': '多实例', 'Loop cardinality': '循环次数', 'Completion condition': '完成条件',
    'Message': '消息', 'Signal': '信号', 'Error': '错误', 'Escalation': '升级', 'Compensation': '补偿',
    'Link': '链接', 'Implementation': '实现', 'Called element': '被调用元素', 'Data object reference': '数据对象引用',
    'Participant': '参与者', 'Lane': '泳道', 'Event type': '事件类型', 'Timer type': '定时器类型',
    '<none>': '<无>', '<empty>': '<空>', 'Learn more.': '了解更多。', 'Variable name': '变量名',
    'Collection': '集合', 'Element variable': '元素变量', 'Input collection': '输入集合', 'Output collection': '输出集合',
    'Output element': '输出元素', 'Asynchronous continuations': '异步延续', 'Collaboration': '协作', 'Process': '流程',
    'Topic': '主题（外部任务）', 'External': '外部任务', 'Decision reference': '决策引用', 'Decision ID': '决策编号',
    'DMN': '决策表', 'Binding': '绑定', 'Result variable': '结果变量', 'Map decision result': '决策结果映射',
    'Collection': '集合', 'Element variable': '元素变量（会签填 assignee）', 'Inputs': '输入', 'Outputs': '输出',
    'Forms': '表单', 'Form fields': '表单字段', 'Listeners': '监听器', 'Extension properties': '扩展属性',
    'Execution listeners': '执行监听器', 'Task listeners': '任务监听器', 'Field injections': '字段注入',
    'Message name': '消息名称', 'Signal name': '信号名称', 'Global message reference': '消息',
    'Global signal reference': '信号', 'Script format': '脚本格式', 'Script type': '脚本类型',
    'Condition type': '条件类型', 'Sequential': '顺序', 'Parallel': '并行', 'Assignee': '办理人',
    'Candidate users': '候选用户', 'Candidate groups': '候选组', 'User assignment': '办理人分配',
    'External task': '外部任务设置', 'Errors': '错误', 'Priority': '优先级', 'Retry time cycle': '重试周期',
    // bpmn-js-bpmnlint's own words (the rules' messages come in the page's language from lint-rules.js)
    'Toggle linting overlays': '显示/隐藏校验标记', '{errors} Errors, {warnings} Warnings': '{errors} 个错误，{warnings} 个警告',
    'No Issues': '没有发现问题', 'Issues for child elements': '子元素的问题'
  };
  var canvasBox = document.getElementById('canvas');
  if (!canvasBox || !window.BpmnJS) { return; }
  var text = JSON.parse(document.getElementById('modeler-text').textContent);
  var panel = window.BpmnJSPropertiesPanel || {};
  var camunda = window.CamundaBpmnModdle;  // camunda:topic, camunda:decisionRef, camunda:collection… as Camunda writes them
  var modules = [panel.BpmnPropertiesPanelModule, panel.BpmnPropertiesProviderModule,
                 camunda && panel.CamundaPlatformPropertiesProviderModule].filter(Boolean);
  // bpmnlint while drawing: Sunlight's rules (lint-rules.js) mark what the server would refuse, before a save.
  var linting = window.BpmnJsBpmnlint && window.SunlightLint;
  if (linting) { modules.push(window.BpmnJsBpmnlint); }
  if (document.documentElement.lang === 'zh-CN' && window.BpmnJsI18nZh) {
    // The modeler in Chinese: bpmn-js-i18n's translation plus the properties panel's most common labels.
    var dict = Object.assign({}, window.BpmnJsI18nZh, PANEL_ZH);
    modules.push({ translate: ['value', function (template, replacements) {
      replacements = replacements || {};
      return (dict[template] || template).replace(/{([^}]+)}/g, function (_, key) {
        return replacements[key] !== undefined ? replacements[key] : '{' + key + '}';
      });
    }] });
  }
  var modeler = new window.BpmnJS({
    container: canvasBox, propertiesPanel: { parent: '#properties' }, additionalModules: modules,
    moddleExtensions: camunda ? { camunda: camunda } : {},
    linting: linting ? { active: true, bpmnlint: window.SunlightLint } : undefined
  });
  var dirty = false;  // an edit since the diagram was opened or saved
  modeler.on('commandStack.changed', function () { dirty = true; });
  window.addEventListener('beforeunload', function (e) {
    if (dirty) { e.preventDefault(); e.returnValue = ''; }
  });
  Array.prototype.forEach.call(document.querySelectorAll('.toolbar form'), function (form) {
    form.addEventListener('submit', function (e) {  // opening another version or a template drops the edits
      if (dirty && !window.confirm(text.unsaved)) { e.preventDefault(); return; }
      dirty = false;
    });
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
      var said = p.shown || p.message;  // the server's words in the page's language
      var li = document.createElement('li');
      var where = [];
      if (p.element_id) { where.push(p.element_id); }
      if (p.line) { where.push(text.line.replace('{n}', p.line)); }
      li.textContent = (where.length ? '[' + where.join(' · ') + '] ' : '') + said;
      li.dataset.elementId = p.element_id || '';
      var el = p.element_id && registry.get(p.element_id);
      if (el) {
        var pin = document.createElement('div');
        pin.className = 'problem-pin';
        pin.title = said;
        pin.textContent = '⚠ ' + said;
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
        dirty = false;
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
    .then(function () {
      modeler.get('canvas').zoom('fit-viewport', 'auto');
      canvasBox.dataset.ready = 'true';
      if (/[?&]saved=1\b/.test(window.location.search)) { status.textContent = text.saved; status.classList.add('ok'); }
    })
    .catch(function (e) { status.textContent = text.loadFailed + ': ' + e.message; canvasBox.dataset.ready = 'error'; });
  window.sunlightModeler = modeler; // for the browser tests
}());
