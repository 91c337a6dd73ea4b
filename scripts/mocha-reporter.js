'use strict';
// mocha's spec reporter, plus a JSON file with the counts for scripts/test.js.
const fs = require('node:fs');
const Mocha = require('mocha');
const { EVENT_RUN_END } = Mocha.Runner.constants;

class CountingSpecReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    const output = options.reporterOption && options.reporterOption.output;
    runner.once(EVENT_RUN_END, () => {
      const s = runner.stats || {};
      if (output) {
        fs.writeFileSync(output, JSON.stringify({ passed: s.passes || 0, failed: s.failures || 0, pending: s.pending || 0 }));
      }
    });
  }
}
module.exports = CountingSpecReporter;
