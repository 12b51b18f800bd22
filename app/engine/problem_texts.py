"""The Chinese text of every problem Sunlight reports about a diagram, a decision table or a running case.

The checks write their messages in English (the API's `message`, which the contract keeps); designers and
clerks read Chinese. Rather than a key per raise site, this table reads the English back: an ordered list of
(pattern over the whole English message → Chinese template). A template names the pattern's groups:
`{name}` puts the group in as written (ids, names, values the designer typed), `{~name}` puts in the Chinese
of the group, found by the same table (a condition's text is data; the reason it was refused is a message of
its own). `zh()` is strict — None when any part has no Chinese — so a test can fail on a message nobody
translated; `localized()` is what pages show, never failing (English where the table has no words).
"""
from __future__ import annotations

import re

# Ordered: the first pattern that matches the whole message (and whose translated parts translate) wins.
_RULES: list[tuple[str, str]] = [
    # --- the upload as a file (app/engine/xmlsafe.py, specs.py) -------------------------------------------
    (r"a DOCTYPE \(DTD or entity declarations\) is not allowed in a BPMN upload",
     "上传的 BPMN 文件中不允许出现 DOCTYPE（DTD 或实体声明）。"),
    (r"the body is empty; send the (?P<kind>\S+) XML exported from the modeler",
     "内容为空；请发送从建模器导出的 {kind} XML 文件。"),
    (r"not well-formed XML: (?P<why>.*)", "不是格式正确的 XML：{why}"),
    (r"not readable XML: (?P<why>.*)", "无法读取的 XML：{why}"),
    (r"XML entity references are not allowed in a BPMN upload", "上传的 BPMN 文件中不允许使用 XML 实体引用。"),
    (r"the root element is <(?P<root>[^>]*)>; a (?P<kind>.+?) file starts with (?P<start>.*)",
     "根元素是 <{root}>；{kind} 文件应以 {start} 开头。"),
    (r"the diagram must be UTF-8 encoded \((?P<why>.*)\)", "流程图必须使用 UTF-8 编码（{why}）。"),
    (r"the file must be UTF-8 encoded \((?P<why>.*)\)", "文件必须使用 UTF-8 编码（{why}）。"),
    (r"the diagram is (?P<size>\d+) bytes; the limit is (?P<limit>\d+)",
     "流程图大小为 {size} 字节，超过上限 {limit} 字节。"),

    # --- which process runs (app/engine/checks.py) --------------------------------------------------------
    (r"the file holds no <bpmn:process>; draw a process first", "文件中没有流程（<bpmn:process>），请先画一个流程。"),
    (r"no process is executable\. In bpmn\.io select the pool or the canvas and tick 'Executable' in the "
     r"properties panel \(it writes isExecutable=\"true\" on <bpmn:process>\)",
     "没有可执行的流程。请在 bpmn.io 中选中泳池或画布，在属性面板中勾选“可执行”（Executable，"
     "即在 <bpmn:process> 上写入 isExecutable=\"true\"）。"),
    (r"every executable process is called by a call activity, so none of them can start a case",
     "每个可执行流程都被调用活动调用，因此没有一个流程能发起办件。"),
    (r"the file holds several executable top-level processes \((?P<ids>.*)\); Sunlight runs one per item: untick "
     r"'Executable' on the others or call them from one with a call activity",
     "文件中有多个可执行的顶层流程（{ids}）；每个事项只运行一个流程：请取消其余流程的“可执行”勾选，"
     "或在其中一个流程里用调用活动调用其余流程。"),
    (r"the executable process has no id", "可执行流程没有编号（id）。"),

    # --- flows, ids, loops, calls, data stores -----------------------------------------------------------
    (r"the sequence flow has no sourceRef", "该顺序流没有起点（sourceRef）。"),
    (r"the sequence flow has no targetRef", "该顺序流没有终点（targetRef）。"),
    (r"the sequence flow's sourceRef '(?P<ref>.*)' is not an element of this process",
     "该顺序流的起点（sourceRef）“{ref}”不是本流程中的元素。"),
    (r"the sequence flow's targetRef '(?P<ref>.*)' is not an element of this process",
     "该顺序流的终点（targetRef）“{ref}”不是本流程中的元素。"),
    (r"the id '(?P<id>.*)' is reserved by the engine; give the element another id",
     "编号“{id}”为流程引擎保留，请给该元素换一个编号。"),
    (r"this sequence flow closes a loop that has no exclusive gateway to leave it by, so a case would go round it "
     r"for ever; add a gateway with a way out",
     "该顺序流构成了一个没有排他网关可以离开的循环，办件会在其中无限循环；请加一个有出口的网关。"),
    (r"call activities form a loop back to process '(?P<id>.*)'; a case would never end",
     "调用活动形成了回到流程“{id}”的循环，办件将永远无法结束。"),
    (r"the call activity names no process to call \(calledElement\)", "该调用活动没有指定要调用的流程（calledElement）。"),
    (r"the call activity calls process '(?P<id>.*)', which is not in this file nor a published shared flow of this "
     r"department or above; draw it as a pool in the same file or use an embedded subprocess",
     "该调用活动调用的流程“{id}”既不在本文件中，也不是本部门或上级已发布的共享流程；"
     "请把它画在同一文件的泳池中，或改用内嵌子流程。"),
    (r"the call to '(?P<id>.*)' is ambiguous: items (?P<items>.*) publish a flow with that process id",
     "对“{id}”的调用不明确：事项 {items} 都发布了该流程编号的流程。"),
    (r"Sunlight does not run data stores \(case data lives in the case\): remove the arrow to data store "
     r"'(?P<name>.*)'",
     "Sunlight 不运行数据存储（办件数据保存在办件中）：请删除指向数据存储“{name}”的连线。"),
    (r"Sunlight does not run data stores \(case data lives in the case\): remove data store '(?P<name>.*)'",
     "Sunlight 不运行数据存储（办件数据保存在办件中）：请删除数据存储“{name}”。"),

    # --- conditions, scripts, correlations ---------------------------------------------------------------
    (r"the condition is empty; write e\.g\. approved == True", "条件为空；请填写条件，例如 approved == True。"),
    (r"condition '(?P<text>.*)' is refused: (?P<why>.*)", "条件“{text}”不被接受：{~why}"),
    (r"script is refused \(script line (?P<n>\d+)\): (?P<why>.*)", "脚本不被接受（脚本第 {n} 行）：{~why}"),
    (r"script is refused: (?P<why>.*)", "脚本不被接受：{~why}"),
    (r"correlation property expression '(?P<text>.*)' is refused: (?P<why>.*)",
     "关联属性表达式“{text}”不被接受：{~why}"),

    # --- timers (checks.py, timers.py, features.py) ------------------------------------------------------
    (r"the timer has no value; type e\.g\. PT72H, P3D or workdays\(5\)",
     "定时器没有值；请填写，例如 PT72H、P3D 或 workdays(5)。"),
    (r"timer: (?P<why>.*)", "定时器：{~why}"),
    (r"'(?P<value>.*)' is not a valid ISO-8601 value here \(for example PT72H or P3D, or workdays\(5\)\)",
     "“{value}”在这里不是有效的 ISO-8601 值（例如 PT72H 或 P3D，或 workdays(5)）。"),
    (r"'(?P<value>.*)' is not a valid ISO-8601 value here \(for example (?P<example>[^,]*), or workdays\(5\)\)",
     "“{value}”在这里不是有效的 ISO-8601 值（例如 {example}，或 workdays(5)）。"),
    (r"workdays\(N\) needs 1 ≤ N ≤ (?P<max>\d+)", "workdays(N) 要求 1 ≤ N ≤ {max}。"),
    (r"'(?P<value>.*)' is neither an ISO-8601 value nor a safe expression: (?P<why>.*)",
     "“{value}”既不是 ISO-8601 值，也不是安全的表达式：{~why}"),
    (r"'(?P<value>.*)' does not give a date, duration or cycle; type e\.g\. PT72H, P3D or workdays\(5\)",
     "“{value}”得不出日期、时长或循环；请填写，例如 PT72H、P3D 或 workdays(5)。"),
    (r"the timer value '(?P<value>.*)' is an expression; it is checked when the timer starts",
     "定时器的值“{value}”是表达式，将在定时器启动时检查。"),
    (r"an event-based gateway may wait for one timer only; merge the timer branches into one",
     "事件网关只能等待一个定时器；请把几个定时器分支合并为一个。"),
    (r"a timer after an event-based gateway fires once: use a date or a duration \(PT72H, P10D, workdays\(5\)\), "
     r"not a cycle",
     "事件网关之后的定时器只触发一次：请使用日期或时长（PT72H、P10D、workdays(5)），不要用循环。"),
    (r"the timer's value is not an ISO-8601 date, duration or cycle \(like PT72H\)",
     "定时器的值不是 ISO-8601 的日期、时长或循环（例如 PT72H）。"),

    # --- business-rule tasks (checks.py, features.py) ----------------------------------------------------
    (r"the <bpmn:businessRuleTask> names no decision: set its camunda:decisionRef to the id of a decision table "
     r"uploaded with the diagram",
     "该业务规则任务（<bpmn:businessRuleTask>）没有指定决策：请把它的 camunda:decisionRef 设为随流程图一起上传的"
     "决策表的编号。"),
    (r"the <bpmn:businessRuleTask> names no decision \(camunda:decisionRef\)",
     "该业务规则任务没有指定决策（camunda:decisionRef）。"),
    (r"the business-rule task calls decision '(?P<id>.*)', which is in no uploaded DMN file \(decisions: none "
     r"uploaded\)",
     "该业务规则任务调用的决策“{id}”不在任何已上传的 DMN 文件中（尚未上传决策表）。"),
    (r"the business-rule task calls decision '(?P<id>.*)', which is in no uploaded DMN file \(decisions: "
     r"(?P<known>.*)\)",
     "该业务规则任务调用的决策“{id}”不在任何已上传的 DMN 文件中（已上传的决策：{known}）。"),
    (r"the topic '(?P<topic>.*)' is not one Sunlight serves: topics starting with 'sunlight\.' are its own "
     r"\((?P<known>.*)\)",
     "主题“{topic}”不是阳光运行自身办理的主题：以“sunlight.”开头的主题保留给系统（现有：{known}）。"),

    # --- SpiffWorkflow's parser, as specs.py rephrases it ---------------------------------------------------
    (r"a sequence flow points at an element that does not exist \((?P<id>.*)\)",
     "有顺序流指向不存在的元素（{id}）。"),
    (r"Sunlight cannot run a element element; replace it with a supported one \(tasks, gateways, timer events\)",
     "Sunlight 无法运行该元素；请换成支持的元素（任务、网关、定时事件）。"),
    (r"Sunlight cannot run a (?P<tag><[^>]*>) element; replace it with a supported one \(tasks, gateways, timer "
     r"events\)",
     "Sunlight 无法运行 {tag} 元素；请换成支持的元素（任务、网关、定时事件）。"),
    (r"this kind of boundary event is not supported; use a timer, message, signal, error, escalation or "
     r"conditional boundary event",
     "不支持这种边界事件；请使用定时、消息、信号、错误、升级或条件边界事件。"),
    (r"a data association of this task points at a data object Sunlight cannot find; remove the arrow",
     "该任务的数据关联指向一个找不到的数据对象；请删除该连线。"),
    (r"a subprocess needs exactly one start event inside it; found (?P<n>\d+)\.?",
     "子流程内部必须恰好有一个开始事件；现有 {n} 个。"),
    (r"a subprocess needs exactly one start event inside it; (?P<rest>.*)", "子流程内部必须恰好有一个开始事件：{rest}"),
    (r"the diagram is too long or nested too deeply for the engine; split it with call activities",
     "流程图太长或嵌套太深，引擎无法处理；请用调用活动拆分。"),
    (r"the id '(?P<id>.*)' is used twice or is not a valid id \(an id starts with a letter or _ and holds no "
     r"spaces\)",
     "编号“{id}”重复使用或不是有效的编号（编号以字母或 _ 开头，不含空格）。"),
    (r"the file does not follow the BPMN 2\.0 schema: (?P<why>.*)", "文件不符合 BPMN 2.0 规范（XML Schema）：{why}"),
    (r"the engine could not read this element; check its settings in the modeler",
     "引擎无法读取该元素；请在建模器中检查它的设置。"),
    (r"the engine could not read this (?P<tag><[^>]*>); check its settings in the modeler",
     "引擎无法读取该 {tag}；请在建模器中检查它的设置。"),
    (r"the engine could not read this diagram; open it in bpmn\.io, check it, and export again",
     "引擎无法读取该流程图；请在 bpmn.io 中打开、检查后重新导出。"),
    (r"the engine cannot lay out a case of this diagram \(a loop with no way out, or a path too long\); check the "
     r"loops and split long paths with call activities",
     "引擎无法为该流程图排布办件（有无出口的循环，或路径太长）；请检查循环，并用调用活动拆分过长的路径。"),
    (r"the engine cannot start a case of this diagram; open it in bpmn\.io, check it, and export again",
     "引擎无法用该流程图发起办件；请在 bpmn.io 中打开、检查后重新导出。"),
    (r"the diagram nests call activities or subprocesses too deeply", "流程图中调用活动或子流程嵌套太深。"),
    # SpiffWorkflow's own words, passed through when specs.py has no better ones
    (r"Non-default exclusive outgoing sequence flow without condition\.?",
     "排他网关的非默认出口顺序流没有条件；请填写条件，或把它设为默认流。"),
    (r"Process (?P<id>.*) is not executable\.?", "流程 {id} 不可执行。"),
    (r"No start event found", "没有找到开始事件。"),
    (r"Duplicate process ID: (?P<id>.*)", "流程编号重复：{id}"),
    (r"Conditional event definition with missing condition", "条件事件缺少条件。"),
    (r"Unknown Time Specification", "无法识别的定时器设置。"),
    (r"Time Specification Error\. (?P<why>.*)", "定时器设置错误：{why}"),
    (r"A SubWorkflow Must contain an End event", "子流程必须包含结束事件。"),
    (r"No \"calledElement\" attribute for Call Activity\.?", "调用活动缺少 calledElement 属性。"),
    (r"Invalid Script Task\.\s+No Script Provided\.(?P<why>.*)", "脚本任务无效：没有填写脚本。"),
    (r"A loopMaximum or loopCondition must be specified for Loop Tasks", "循环任务必须指定 loopMaximum 或 loopCondition。"),
    (r"A multiinstance task must specify a cardinality or a loop input data reference",
     "多实例任务必须指定实例数（cardinality）或输入集合。"),
    (r"A multiinstance task must specify exactly one of cardinality or loop input data reference",
     "多实例任务只能指定实例数（cardinality）或输入集合其中之一。"),
    (r"A multiinstance task must specify a cardinality or a collection", "多实例任务必须指定实例数或集合。"),
    (r"(?P<what>Message|Signal|Error|Escalation|Correlation|Data Store) identifier is missing from bpmn xml",
     "BPMN 文件中的 {what} 缺少编号（id）。"),
    (r"Data Store name is missing from bpmn xml", "BPMN 文件中的数据存储缺少名称。"),
    (r"Data Store with name (?P<name>.*) has no implementation", "数据存储 {name} 没有实现（Sunlight 不运行数据存储）。"),
    (r"Correlation is missing correlation property retrieval expressions: (?P<id>.*)", "关联 {id} 缺少关联属性的取值表达式。"),
    (r"Message identifier is missing from correlation property: (?P<id>.*)", "关联属性 {id} 缺少消息编号。"),
    (r"The process '(?P<id>.*)' was not found\. Did you mean one of the following: (?P<ids>.*)\?",
     "找不到流程“{id}”。是否指以下之一：{ids}？"),
    (r"Could not find messageRef from message event definition: (?P<id>.*)", "消息事件定义 {id} 引用的消息（messageRef）不存在。"),
    (r"Sequential ordering for ad hoc subprocesses not supported", "不支持顺序执行的自由子流程（ad hoc）。"),
    (r"Ad hoc subprocesses may not contain start or end events", "自由子流程（ad hoc）中不能有开始或结束事件。"),
    (r"Expected an? (?P<what>Message|Signal|Error|Escalation) node", "此处应引用一个 {what} 元素。"),

    # --- org units and the item's steps (app/definitions) ------------------------------------------------
    (r"lane '(?P<lane>.*)' hands its steps to org unit '(?P<org>.*)', which does not exist \(a lane ORG:POST names "
     r"an org unit code and a post\)",
     "泳道“{lane}”把环节交给组织单位“{org}”，但该组织单位不存在（ORG:POST 形式的泳道名由组织单位代码、冒号和岗位组成）。"),
    (r"the item's (?P<field>\w+) names user task '(?P<step>.*)', which this diagram does not have",
     "事项的 {field} 指定了用户任务“{step}”，但此流程图中没有该任务。"),

    # --- warnings (checks.warnings) ----------------------------------------------------------------------
    (r"the task lies in no lane; any clerk of the department may complete it", "该任务不在任何泳道中，本部门任何经办人都可办理。"),
    (r"the process has no lanes; any clerk of the department may complete every task",
     "流程没有泳道，本部门任何经办人都可办理每个环节。"),

    # --- deploy-time limits and the work budget (app/engine/deploy_limits.py, budget.py) -----------------
    (r"the id is (?P<n>\d+) characters long; at most (?P<max>\d+) are stored", "编号长 {n} 个字符，最多只能保存 {max} 个。"),
    (r"the (?P<what>.+?) is (?P<n>\d+) characters long; at most (?P<max>\d+) are stored \('(?P<value>.*)'\)",
     "{~what}长 {n} 个字符，最多只能保存 {max} 个（“{value}”）。"),
    (r"the (?P<what>script|condition) is (?P<n>\d+) characters long; at most (?P<max>\d+) are allowed "
     r"\(MAX_SCRIPT_CHARS\)",
     "{~what}长 {n} 个字符，最多允许 {max} 个（MAX_SCRIPT_CHARS）。"),
    (r"process id", "流程编号"), (r"name", "名称"), (r"script", "脚本"), (r"condition", "条件"),
    (r"topic of the service task \(camunda:topic, else its name\)", "服务任务的主题（camunda:topic，否则为其名称）"),
    (r"name of the message", "消息名称"), (r"name of the signal", "信号名称"),
    (r"the multi-instance step would run (?P<n>\d+) instances; at most (?P<max>\d+) are allowed "
     r"\(MAX_MULTI_INSTANCES\)",
     "多实例环节将运行 {n} 个实例，最多允许 {max} 个（MAX_MULTI_INSTANCES）。"),
    (r"the multi-instance step would run (?P<n>\d+) instances; at most (?P<max>\d+) are allowed",
     "多实例环节将运行 {n} 个实例，最多允许 {max} 个。"),
    (r"a cycle must be typed as an ISO-8601 value like R3/PT24H, so that its repetitions and interval can be "
     r"checked; '(?P<value>.*)' is an expression",
     "循环定时器必须写成 ISO-8601 值（如 R3/PT24H），以便检查重复次数和间隔；“{value}”是表达式。"),
    (r"the cycle '(?P<value>.*)' repeats without end; at most (?P<max>\d+) repetitions are allowed \(write e\.g\. "
     r"(?P<example>\S+); MAX_TIMER_CYCLES\)",
     "循环“{value}”无限重复；最多允许重复 {max} 次（例如写成 {example}；MAX_TIMER_CYCLES）。"),
    (r"the cycle '(?P<value>.*)' repeats (?P<n>\d+) times; at most (?P<max>\d+) repetitions are allowed \(write "
     r"e\.g\. (?P<example>\S+); MAX_TIMER_CYCLES\)",
     "循环“{value}”重复 {n} 次；最多允许重复 {max} 次（例如写成 {example}；MAX_TIMER_CYCLES）。"),
    (r"the cycle '(?P<value>.*)' repeats every (?P<s>[\d.e+]+) s; the shortest interval allowed is "
     r"(?P<min>[\d.e+]+) s \(MIN_TIMER_CYCLE_SECONDS\)",
     "循环“{value}”每 {s} 秒重复一次；允许的最短间隔为 {min} 秒（MIN_TIMER_CYCLE_SECONDS）。"),
    (r"the action needs more than its budget of (?P<s>[\d.e+]+) s of evaluation \(a script, loop or "
     r"multi-instance step doing too much work\); nothing was saved",
     "该操作需要的计算超过了 {s} 秒的预算（脚本、循环或多实例环节的工作量太大）；没有保存任何改动。"),

    # --- decision tables (app/engine/dmn.py) -------------------------------------------------------------
    (r"decision id '(?P<id>.*)' is used twice \(also in (?P<file>.*)\)", "决策编号“{id}”重复使用（另见 {file}）。"),
    (r"the file holds no decision table", "文件中没有决策表。"),
    (r"decision '(?P<d>.*?)', rule (?P<n>\d+) \((?P<rid>[^)]*)\), (?P<col>input|output) '(?P<label>.*?)': "
     r"'(?P<text>.*)' is refused: (?P<why>.*)",
     "决策“{d}”第 {n} 条规则（{rid}）的{~col}“{label}”：“{text}”不被接受：{~why}"),
    (r"decision '(?P<d>.*?)', rule (?P<n>\d+) \((?P<rid>[^)]*)\): (?P<rest>.*)", "决策“{d}”第 {n} 条规则（{rid}）：{~rest}"),
    (r"decision '(?P<d>.*?)', rule (?P<n>\d+), (?P<col>input|output) '(?P<label>.*?)': (?P<why>.*)",
     "决策“{d}”第 {n} 条规则的{~col}“{label}”：{~why}"),
    (r"input", "输入"), (r"output", "输出"),
    (r"decision '(?P<d>.*?)': rules (?P<numbers>[\d, ]+) all match, but its hit policy UNIQUE allows one; fix the "
     r"table or use FIRST\.?",
     "决策“{d}”：第 {numbers} 条规则同时命中，但命中策略 UNIQUE 只允许命中一条；请修改决策表或改用 FIRST。"),
    (r"decision '(?P<d>.*?)': (?P<agg>SUM|MIN|MAX) needs numbers, got (?P<values>.*)",
     "决策“{d}”：{agg} 需要数字，实际得到 {values}"),
    (r"decision '(?P<d>.*?)': (?P<rest>.*)", "决策“{d}”：{~rest}"),
    (r"the decision has no id", "该决策没有编号（id）。"),
    (r"hit policy '(?P<p>.*)' is not supported; use UNIQUE, FIRST or COLLECT",
     "不支持命中策略“{p}”；请使用 UNIQUE、FIRST 或 COLLECT。"),
    (r"aggregation '(?P<a>.*)' needs hit policy COLLECT and one of (?P<list>.*)",
     "聚合方式“{a}”需要命中策略 COLLECT，并且只能是 {list} 之一。"),
    (r"more than (?P<n>\d+) rules", "规则超过 {n} 条。"),
    (r"input '(?P<label>.*?)' has no expression; name the case field it reads, e\.g\. amount",
     "输入“{label}”没有表达式；请填写它读取的办件数据字段，例如 amount。"),
    (r"input '(?P<label>.*?)' expression '(?P<text>.*)' is refused: (?P<why>.*)",
     "输入“{label}”的表达式“{text}”不被接受：{~why}"),
    (r"the table has no output column", "决策表没有输出列。"),
    (r"output '(?P<label>.*?)' needs a name that is a field of the case data \(letters, digits and _, e\.g\. fine\)",
     "输出“{label}”需要一个可作为办件数据字段的名称（字母、数字和 _，例如 fine）。"),
    (r"two output columns have the same name", "有两个输出列同名。"),
    (r"the rule has (?P<i>\d+) input and (?P<o>\d+) output cells for (?P<ni>\d+) inputs and (?P<no>\d+) outputs",
     "该规则有 {i} 个输入单元格和 {o} 个输出单元格，而决策表有 {ni} 个输入列和 {no} 个输出列。"),

    # --- the safe evaluator's reasons (app/engine/expressions.py) ----------------------------------------
    (r"attribute access \(x\.y\) is not allowed; use x\['y'\] for data fields",
     "不允许访问属性（x.y）；数据字段请写成 x['y']。"),
    (r"lambda is not allowed", "不允许使用 lambda。"),
    (r"comprehensions are not allowed", "不允许使用推导式。"),
    (r"generator expressions are not allowed", "不允许使用生成器表达式。"),
    (r"':=' is not allowed", "不允许使用 “:=”。"),
    (r"'\*' unpacking is not allowed", "不允许使用 “*” 解包。"),
    (r"'\*\*' unpacking is not allowed", "不允许使用 “**” 解包。"),
    (r"import is not allowed", "不允许使用 import。"),
    (r"keyword arguments are not allowed", "不允许使用关键字参数。"),
    (r"'(?P<what>\w+)' is not allowed in an expression", "表达式中不允许使用“{what}”。"),
    (r"round\(x, n\) needs a whole number n between (?P<a>-?\d+) and (?P<b>\d+)",
     "round(x, n) 的 n 必须是 {a} 到 {b} 之间的整数。"),
    (r"sum takes one list of numbers, like sum\(amounts\)", "sum 只接受一个数字列表，例如 sum(amounts)。"),
    (r"a function is not a value; call it, like len\(x\)", "函数不是值；请调用它，例如 len(x)。"),
    (r"a number has more than (?P<n>\d+) bits", "数字超过 {n} 位（二进制）。"),
    (r"a value would be larger than (?P<n>\d+) items and characters", "值将超过 {n} 个元素或字符。"),
    (r"a product would have more than (?P<n>\d+) bits", "乘积将超过 {n} 位（二进制）。"),
    (r"a power would have more than (?P<n>\d+) bits", "乘方结果将超过 {n} 位（二进制）。"),
    (r"text formatting with % is not allowed; use an f-string like f\"PT\{hours\}H\"",
     "不允许用 % 格式化文字；请使用 f 字符串，例如 f\"PT{{hours}}H\"。"),
    (r"the expression is empty", "表达式为空。"),
    (r"the expression is longer than (?P<n>\d+) characters", "表达式超过 {n} 个字符。"),
    (r"syntax error: invalid syntax", "语法错误。"),
    (r"syntax error: invalid syntax(?P<hint>.*)", "语法错误{~hint}"),
    (r"syntax error: (?P<python>.*?)(?P<hint>(?: \((?:this looks like|to compare).*\))?)",
     "语法错误（{python}）{~hint}"),
    (r"", ""),  # no hint after a syntax error
    (r" \(this looks like a Camunda JUEL expression: write the bare condition, e\.g\. approved == True\)",
     "（这像是 Camunda 的 JUEL 表达式：请直接写条件，例如 approved == True）"),
    (r" \(this looks like a FEEL expression: drop the leading '=' and write e\.g\. approved == True\)",
     "（这像是 FEEL 表达式：请去掉开头的“=”，写成例如 approved == True）"),
    (r" \(this looks like an XPath expression: write e\.g\. approved == True\)",
     "（这像是 XPath 表达式：请写成例如 approved == True）"),
    (r" \(to compare, write '==', not '='\)", "（比较请写“==”，不要写“=”）"),
    (r"the expression is too deeply nested or not valid text", "表达式嵌套太深或不是有效的文字。"),
    (r"the expression has more than (?P<n>\d+) parts", "表达式超过 {n} 个部分。"),
    (r"the expression is nested more than (?P<n>\d+) levels deep", "表达式嵌套超过 {n} 层。"),
    (r"the name '(?P<name>.*)' is not allowed \(no leading underscore\)", "不允许使用名称“{name}”（不能以下划线开头）。"),
    (r"'(?P<name>.*)' is a function; call it, like (?P=name)\(x\)", "“{name}”是函数；请调用它，例如 {name}(x)。"),
    (r"method calls like x\.(?P<method>.*)\(\) are not allowed; only the offered functions can be called "
     r"\((?P<offered>.*)\)",
     "不允许调用方法（如 x.{method}()）；只能调用提供的函数（{offered}）。"),
    (r"'(?P<name>.*)' is not an offered function \(offered: (?P<offered>.*)\)",
     "“{name}”不是提供的函数（可用：{offered}）。"),
    (r"bytes and complex literals are not allowed", "不允许使用字节串和复数字面量。"),
    (r"format specifications in f-strings are not allowed", "f 字符串中不允许使用格式说明。"),
    (r"a script may only hold assignments like `fee = area \* 2`", "脚本只能包含赋值语句，例如 `fee = area * 2`。"),
    (r"assign to one plain name per line, like `fee = area \* 2`", "每行只能给一个普通名称赋值，例如 `fee = area * 2`。"),
    (r"'(?P<name>.*)' is not defined in the case data", "办件数据中没有“{name}”。"),
    (r"'(?P<name>.*)' would not be a finite number \(inf or nan cannot be stored\)",
     "“{name}”将不是有限的数字（无法保存 inf 或 nan）。"),
    (r"the expression is too large to evaluate", "表达式太大，无法计算。"),
    (r"(?P<kind>\w+Error): (?P<why>.*)", "计算出错（{kind}：{why}）。"),
    (r"Sorry(?:,|!) (?P<why>.*)", "表达式无法计算（{why}）。"),
    (r"(?P<why>(?:Lambda Functions not implemented|This function is forbidden|This function .* is a really bad "
     r"idea\.|Comprehension generates too many elements))", "表达式中不允许这样做（{why}）。"),

    # --- running a case (app/engine/runtime.py) ----------------------------------------------------------
    (r"Error evaluating expression '(?P<text>.*)': (?P<why>.*)", "计算表达式“{text}”出错：{~why}"),
    (r"Error evaluating expression '(?P<text>.*)'\.?", "计算表达式“{text}”出错。"),
    (r"the script failed: (?P<why>.*)", "脚本执行失败：{~why}"),
    (r"the engine could not lay out a case of this diagram \((?P<kind>\w+)\)", "引擎无法为该流程图排布办件（{kind}）。"),
    (r"the engine stopped on an error", "流程引擎在此出错停止。"),
    (r"the case went round a loop too often: its steps are more than (?P<n>\d+) deep and the engine would stop "
     r"following them \(the action was not saved\)",
     "办件在循环中绕行次数太多：环节深度超过 {n} 层，引擎将无法继续跟踪（本次操作未保存）。"),
    (r"the engine failed \((?P<why>.*)\)", "流程引擎出错（{why}）。"),
    (r"No conditions satisfied for (?P<gateway>.*?)\.?", "网关 {gateway} 的条件都不满足，且没有默认流。"),
    (r"No conditions satisfied on gateway\.?", "网关的条件都不满足。"),
    (r"Missing data input", "缺少输入数据。"),
    (r"Missing data ouput", "缺少输出数据。"),
    (r"Multiinstance (?P<kind>input|output) item (?P<name>.*) already exists\.?",
     "多实例的{~kind}元素 {name} 已存在于办件数据中。"),
    (r"This process is not waiting for (?P<name>.*)", "该流程没有在等待 {name}。"),

    # --- a prefix naming where (a DMN file, an element) before a message of the table -------------------
    (r"(?P<where>[^:\s][^:]{0,199}?): (?P<rest>.+)", "{where}：{~rest}"),
]

_COMPILED = [(re.compile(pattern, re.S), template) for pattern, template in _RULES]
_SLOT = re.compile(r"\{(~?)(\w+)\}|\{\{|\}\}")
MAX_DEPTH = 6  # a message nests a reason in a reason a few times at most


def zh(message: str) -> str | None:
    """The Chinese of an English problem message, or None when the table has no words for it (or a part)."""
    return _translate(message, strict=True, depth=0)


def localized(message: str, lang: str) -> str:
    """What a page shows: the English as written for `lang == "en"`, else the Chinese (English parts kept
    where the table has none, so a reader always sees the whole message)."""
    if lang == "en" or not message:
        return message
    return _translate(message, strict=False, depth=0) or message


def _translate(message: str, *, strict: bool, depth: int) -> str | None:
    if depth > MAX_DEPTH:
        return None if strict else message
    for pattern, template in _COMPILED:
        match = pattern.fullmatch(message)
        if match is None:
            continue
        filled = _fill(template, match, strict=strict, depth=depth)
        if filled is not None:
            return filled
    return None


def _fill(template: str, match: re.Match, *, strict: bool, depth: int) -> str | None:
    parts, last = [], 0
    for slot in _SLOT.finditer(template):
        parts.append(template[last:slot.start()])
        last = slot.end()
        if slot.group(0) in ("{{", "}}"):
            parts.append(slot.group(0)[0])
            continue
        value = match.group(slot.group(2)) or ""
        if slot.group(1):  # a part that is a message of its own: its Chinese
            inner = _translate(value, strict=strict, depth=depth + 1)
            if inner is None:
                if strict:
                    return None
                inner = value
            value = inner
        parts.append(value)
    parts.append(template[last:])
    return "".join(parts)


def with_zh(details: list) -> list:
    """The 422 details of a refused diagram or a stopped case, each with `message_zh` beside the English
    `message` (an additive field; absent when the table has no Chinese for it)."""
    out = []
    for detail in details:
        if isinstance(detail, dict) and isinstance(detail.get("message"), str) and "message_zh" not in detail:
            text = zh(detail["message"])
            detail = {**detail, "message_zh": text} if text is not None else detail
        out.append(detail)
    return out
