// Parse a Mermaid file with Mermaid's own parser: `node parse.mjs FILE`.
// Exit 0 when it parses (prints the diagram type), 1 with Mermaid's message when it does not.
// Mermaid wants a DOM even to parse, so jsdom provides one.
import fs from 'node:fs';
import { JSDOM } from 'jsdom';

const dom = new JSDOM('<!DOCTYPE html><body></body>');
globalThis.window = dom.window;
globalThis.document = dom.window.document;

const mermaid = (await import('mermaid')).default;
mermaid.initialize({ startOnLoad: false });
try {
  const parsed = await mermaid.parse(fs.readFileSync(process.argv[2], 'utf8'));
  console.log(parsed.diagramType);
} catch (error) {
  console.error(error.message);
  process.exit(1);
}
