/* Sunlight's bpmnlint rules for the modeler (bpmn-js-bpmnlint): what the server refuses at upload, shown while
   drawing, in the page's language. The server stays the judge (app/engine/checks.py and the rest); these catch the
   common slips early, in the same words as app/engine/problem_texts.py. Sets window.SunlightLint = {config,
   resolver}, the linterConfig bpmn-js-bpmnlint expects. */
(function () {
  'use strict';
  var zh = document.documentElement.lang !== 'en';
  function say(chinese, english) { return zh ? chinese : english; }
  function is(node, type) { return node && node.$instanceOf && node.$instanceOf(type); }
  function attr(node, name) {
    var value = node.get ? safeGet(node, name) : undefined;
    return value !== undefined ? value : (node.$attrs || {})[name];
  }
  function safeGet(node, name) { try { return node.get(name); } catch (e) { return undefined; } }
  function body(expression) { return expression && typeof expression.body === 'string' ? expression.body.trim() : ''; }

  var TEXT = {
    executable: say('没有可执行的流程。请选中画布或泳池，在属性面板中勾选“可执行”（Executable）。',
      "No process is executable: select the canvas or the pool and tick 'Executable' in the properties panel."),
    noCondition: say('排他网关的非默认出口顺序流没有条件；请填写条件（例如 approved == True），或把它设为默认流。',
      'A non-default flow out of this gateway has no condition: write one (e.g. approved == True) or make it the default flow.'),
    emptyCondition: say('条件为空；请填写条件，例如 approved == True。', 'The condition is empty; write e.g. approved == True.'),
    juel: say('这像是 Camunda 的 JUEL 表达式：请直接写条件，例如 approved == True。',
      'This looks like a Camunda JUEL expression: write the bare condition, e.g. approved == True.'),
    feel: say('这像是 FEEL 表达式：请去掉开头的“=”，写成例如 approved == True。',
      "This looks like a FEEL expression: drop the leading '=' and write e.g. approved == True."),
    assign: say('比较请写“==”，不要写“=”。', "To compare, write '==', not '='."),
    noTimer: say('定时器没有值；请填写，例如 PT72H、P3D 或 workdays(5)。',
      'The timer has no value; type e.g. PT72H, P3D or workdays(5).'),
    complex: say('Sunlight 无法运行复杂网关；请改用排他、包容或并行网关。',
      'Sunlight cannot run a complex gateway; use an exclusive, inclusive or parallel gateway.'),
    dataStore: say('Sunlight 不运行数据存储（办件数据保存在办件中）：请删除该数据存储。',
      'Sunlight does not run data stores (case data lives in the case): remove it.'),
    decision: say('该业务规则任务没有指定决策：请在属性面板中填写决策编号（camunda:decisionRef），并随流程图上传决策表。',
      'The business-rule task names no decision: set its decision reference (camunda:decisionRef) and upload the table with the diagram.'),
    subStart: say('子流程内部必须恰好有一个开始事件。', 'A subprocess needs exactly one start event inside it.'),
    called: say('该调用活动没有指定要调用的流程（calledElement）。', 'The call activity names no process to call (calledElement).'),
    gatewayTimers: say('事件网关只能等待一个定时器；请把几个定时器分支合并为一个。',
      'An event-based gateway may wait for one timer only; merge the timer branches into one.')
  };

  function rule(check) { return function () { return { check: check }; }; }

  var RULES = {
    executable: rule(function (node, reporter) {
      if (!is(node, 'bpmn:Definitions')) { return; }
      var processes = (node.rootElements || []).filter(function (e) { return is(e, 'bpmn:Process'); });
      // As SpiffWorkflow and the server read it: only isExecutable="false" is not executable.
      if (processes.length && processes.every(function (p) { return p.isExecutable === false; })) {
        reporter.report(processes[0].id, TEXT.executable);
      }
    }),
    conditions: rule(function (node, reporter) {
      if (!is(node, 'bpmn:ExclusiveGateway') && !is(node, 'bpmn:InclusiveGateway')) { return; }
      var outgoing = node.outgoing || [];
      if (outgoing.length < 2) { return; }
      outgoing.forEach(function (flow) {
        if (flow !== node.default && !flow.conditionExpression) { reporter.report(flow.id, TEXT.noCondition); }
      });
    }),
    expressions: rule(function (node, reporter) {
      if (!is(node, 'bpmn:SequenceFlow') || !node.conditionExpression) { return; }
      var text = body(node.conditionExpression);
      if (!text) { reporter.report(node.id, TEXT.emptyCondition); }
      else if (/^[$#]\{/.test(text)) { reporter.report(node.id, TEXT.juel); }
      else if (/^=/.test(text)) { reporter.report(node.id, TEXT.feel); }
      else if (/(^|[^=!<>])=([^=]|$)/.test(text)) { reporter.report(node.id, TEXT.assign); }
    }),
    timers: rule(function (node, reporter) {
      (node.eventDefinitions || []).forEach(function (definition) {
        if (is(definition, 'bpmn:TimerEventDefinition') && !body(definition.timeDate)
            && !body(definition.timeDuration) && !body(definition.timeCycle)) {
          reporter.report(node.id, TEXT.noTimer);
        }
      });
    }),
    'complex-gateway': rule(function (node, reporter) {
      if (is(node, 'bpmn:ComplexGateway')) { reporter.report(node.id, TEXT.complex); }
    }),
    'data-stores': rule(function (node, reporter) {
      if (is(node, 'bpmn:DataStoreReference')) { reporter.report(node.id, TEXT.dataStore); }
    }),
    decisions: rule(function (node, reporter) {
      if (is(node, 'bpmn:BusinessRuleTask') && !String(attr(node, 'camunda:decisionRef') || '').trim()) {
        reporter.report(node.id, TEXT.decision);
      }
    }),
    'subprocess-start': rule(function (node, reporter) {
      if (!is(node, 'bpmn:SubProcess') || node.triggeredByEvent || is(node, 'bpmn:AdHocSubProcess')) { return; }
      var starts = (node.flowElements || []).filter(function (e) { return is(e, 'bpmn:StartEvent'); });
      if (starts.length !== 1) { reporter.report(node.id, TEXT.subStart); }
    }),
    'called-element': rule(function (node, reporter) {
      if (is(node, 'bpmn:CallActivity') && !String(node.calledElement || '').trim()) {
        reporter.report(node.id, TEXT.called);
      }
    }),
    'gateway-timers': rule(function (node, reporter) {
      if (!is(node, 'bpmn:EventBasedGateway')) { return; }
      var timers = (node.outgoing || []).filter(function (flow) {
        return ((flow.targetRef && flow.targetRef.eventDefinitions) || []).some(function (d) {
          return is(d, 'bpmn:TimerEventDefinition');
        });
      });
      if (timers.length > 1) { reporter.report(node.id, TEXT.gatewayTimers); }
    })
  };

  var cache = {};
  var rules = {};
  Object.keys(RULES).forEach(function (name) {
    cache['rule:bpmnlint-plugin-sunlight/' + name] = RULES[name];
    rules['sunlight/' + name] = 'error';
  });
  window.SunlightLint = {
    config: { rules: rules },
    resolver: {
      resolveRule: function (pkg, name) { return lookup('rule', pkg, name); },
      resolveConfig: function (pkg, name) { return lookup('config', pkg, name); }
    },
    rules: Object.keys(RULES)
  };
  function lookup(type, pkg, name) {
    var found = cache[type + ':' + pkg + '/' + name];
    if (!found) { throw new Error('unknown ' + type + ' <' + pkg + '/' + name + '>'); }
    return found;
  }
}());
