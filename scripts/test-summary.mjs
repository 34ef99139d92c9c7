// Prints the closing line CI reads, `N passed, N failed`, from vitest's JSON report.
import { existsSync, readFileSync } from 'node:fs';

const file = process.argv[2] ?? 'test-results/vitest.json';
if (!existsSync(file)) {
  console.log('0 passed, 1 failed');
  console.error(`no test report at ${file}: the run did not reach the tests`);
  process.exit(0);
}
const report = JSON.parse(readFileSync(file, 'utf8'));
// A suite that failed to load counts as a failure even though none of its tests ran.
const failedSuites = report.testResults.filter(
  (f) => f.status === 'failed' && f.assertionResults.length === 0,
).length;
const skipped = report.numPendingTests + report.numTodoTests;
console.log(
  `${report.numPassedTests} passed, ${report.numFailedTests + failedSuites} failed${skipped ? `, ${skipped} skipped` : ''}`,
);
