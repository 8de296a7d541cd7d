// Builds the package's README (what npm shows, the only manual in the
// tarball) at `make pkg` time: pkg-template/README.md's opening, then the
// sections of the repository's README.md a user needs, so the two never
// drift. Subsections marked `<!-- not in the package README -->` are left
// out (how the repository tests itself); links into the repository become
// plain text (the tarball has none of those files); images are dropped.
//   node server/package-readme.js README.md pkg-template/README.md pkg/README.md
import { readFileSync, writeFileSync } from 'node:fs';

// Matched by the start of their `## ` heading; a missing one fails the build.
const SECTIONS = ['Use it', 'Workflows', 'Guarantees and their limits', 'Runtimes', 'Server'];
const SKIP = '<!-- not in the package README -->';

const [source, opening, target] = process.argv.slice(2);
const readme = readFileSync(source, 'utf8');

/** `## ` sections of a markdown text, fenced code blocks respected. */
function split(text, level) {
  const marker = `${'#'.repeat(level)} `;
  const parts = [];
  let fenced = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    if (!fenced && line.startsWith(marker)) parts.push({ heading: line.slice(marker.length), lines: [line] });
    else if (parts.length) parts.at(-1).lines.push(line);
    else parts.push({ heading: '', lines: [line] });
  }
  return parts;
}

function forPackage(section) {
  const kept = split(section.lines.join('\n'), 3).filter((sub) => sub.lines[1]?.trim() !== SKIP);
  return kept.map((sub) => sub.lines.join('\n')).join('\n')
    .split('\n').filter((line) => !/^!\[[^\]]*\]\([^)]*\)\s*$/.test(line)).join('\n')
    .replace(/\[([^\]]+)\]\((?!https?:|#)[^)]*\)/g, '$1');
}

const sections = split(readme, 2);
const chosen = SECTIONS.map((name) => {
  const found = sections.find((s) => s.heading.startsWith(name));
  if (!found) throw new Error(`package-readme: README.md has no "## ${name}…" section (update SECTIONS in ${process.argv[1]})`);
  return forPackage(found).trimEnd();
});
// Reference-style links the chosen sections use (e.g. [draft-ietf-…]: https://…).
const references = readme.split('\n').filter((line) => /^\[[^\]]+\]: https?:/.test(line));
const out = `${readFileSync(opening, 'utf8').trimEnd()}\n\n${chosen.join('\n\n')}\n\n${references.join('\n')}\n`;
writeFileSync(target, out);
console.log(`${target}: ${out.length} bytes, sections: ${SECTIONS.join(', ')}`);
