// Prints the slowest test files at the end of a run: CI has a time limit, and this is where to look
// when it grows.
export default class SlowestSuitesReporter {
  onRunComplete(_contexts, results) {
    const suites = results.testResults
      .map((suite) => ({ file: suite.testFilePath.replace(`${process.cwd()}/`, ''), seconds: (suite.perfStats.end - suite.perfStats.start) / 1000 }))
      .sort((a, b) => b.seconds - a.seconds);
    const total = suites.reduce((sum, suite) => sum + suite.seconds, 0);
    console.log(`\nslowest test files (${suites.length} files, ${Math.round(total)} s summed over workers):`);
    for (const { file, seconds } of suites.slice(0, 15)) console.log(`  ${seconds.toFixed(1).padStart(7)} s  ${file}`);
  }
}
