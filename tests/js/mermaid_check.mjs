// Parse Mermaid diagrams with Mermaid's own parser and report what it understood.
//
// Input (stdin): a JSON list of diagram texts (what sits inside a ```mermaid fence).
// Output (stdout): a JSON list, one object per diagram: {"error": message or null,
// "title", "tasks": [{"section", "name", "id", "start", "end"}]}, times as ISO-8601 strings.
// Run with TZ=UTC: gantt dates without a zone are read in the local zone.
//
// Mermaid sanitises labels with DOMPurify, which needs a DOM: jsdom provides one
// (mermaid-js/mermaid#6531).
import { JSDOM } from "jsdom";

const { window } = new JSDOM("");
globalThis.window = window;
globalThis.document = window.document;
const { default: mermaid } = await import("mermaid");

let input = "";
for await (const chunk of process.stdin) input += chunk;

const results = [];
for (const text of JSON.parse(input)) {
  try {
    await mermaid.parse(text);
    const diagram = await mermaid.mermaidAPI.getDiagramFromText(text);
    const tasks = diagram.db.getTasks ? diagram.db.getTasks() : [];
    results.push({
      error: null,
      title: diagram.db.getDiagramTitle ? diagram.db.getDiagramTitle() : "",
      tasks: tasks.map((t) => ({
        section: t.section,
        name: t.task,
        id: t.id,
        start: t.startTime.toISOString(),
        end: t.endTime.toISOString(),
      })),
    });
  } catch (err) {
    results.push({ error: String(err.message || err), title: "", tasks: [] });
  }
}
process.stdout.write(JSON.stringify(results));
