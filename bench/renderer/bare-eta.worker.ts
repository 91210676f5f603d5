import { parentPort, workerData } from 'node:worker_threads';
import { Eta } from 'eta';
import { type RenderInput, templateData } from '../../apps/renderer/src/rendering/render-input.js';

// Bare Eta in a worker thread (bench/renderer's isolated baseline): the template's three parts
// compiled once, each batch's inputs as one JSON text on the thread's own port, the rendered parts
// sent back as structured clones: about the least a render path with a thread hop does, with no
// pool library, time limit or guards.
const eta = new Eta({ autoEscape: true, autoTrim: false, useWith: false, varName: 'it' });
const sources = workerData as { subject: string; html: string; text: string };
const compiled = {
  subject: eta.compile(sources.subject),
  html: eta.compile(sources.html),
  text: eta.compile(sources.text),
};

function render(inputs: string): { subject: string; html: string; text: string }[] {
  return (JSON.parse(inputs) as RenderInput[]).map((input) => {
    const data = templateData(input);
    data.has = () => true;
    return {
      subject: eta.render(compiled.subject, data),
      html: eta.render(compiled.html, data),
      text: eta.render(compiled.text, data),
    };
  });
}

parentPort!.on('message', (inputs: string) => parentPort!.postMessage(render(inputs)));
