// The linting module of bpmn-js-bpmnlint with bpmnlint's Linter, bundled by the Makefile (esbuild, pinned in
// package.json) into static/vendor/bpmn-js-bpmnlint/ as one global for the modeler page: bpmnlint ships
// CommonJS only, and the pages load plain scripts (no bundler at run time, no CDN). Sunlight's own rules are
// in static/lint-rules.js.
import LintModule from 'bpmn-js-bpmnlint';

window.BpmnJsBpmnlint = LintModule;
