import { paragraph, seededRandom, sentence } from '@rag/testkit';

/**
 * The retrieval-quality set: generated product handbooks (Markdown), so it ships with no licence
 * question and is the same on every machine. Each handbook has sections of very different sizes;
 * some hold one fact, and each fact has a question that paraphrases it (sharing the product and
 * component names, not the sentence). The label is the document and section that answer it;
 * a retrieved chunk is relevant when it is from that document and contains the fact.
 */
export interface LabelledQuery {
  query: string;
  documentId: string;
  section: string;
  answer: string;
}

export interface EvalCorpus {
  documents: { documentId: string; title: string; markdown: string }[];
  queries: LabelledQuery[];
}

const COMPONENTS = ['pump', 'valve', 'compressor', 'rotor', 'bearing', 'gearbox', 'sensor', 'heater', 'fan', 'boiler', 'turbine', 'nozzle'];

/** A fact and the question a user would ask about it: same entities, different words. */
const FACTS: ((p: string, c: string, n: number) => [fact: string, question: string])[] = [
  (p, c, n) => [`The ${c} of the ${p} runs at ${n * 100} rpm under full load.`, `How fast does the ${p} ${c} turn at full load?`],
  (p, c, n) => [
    `Replace the ${c} filter of the ${p} every ${n * 250} operating hours.`,
    `How often should the ${c} filter on the ${p} be changed?`,
  ],
  (p, c, n) => [`Without fluid the ${p} ${c} weighs ${n * 3} kilograms.`, `What is the dry weight of the ${p} ${c}?`],
  (p, c, n) => [
    `The highest pressure the ${c} of the ${p} tolerates is ${n * 4} bar.`,
    `Which pressure can the ${p} ${c} withstand at most?`,
  ],
  (p, c, n) => [`Error code E${n * 7} on the ${p} means the ${c} lost its power supply.`, `What does error E${n * 7} mean on the ${p}?`],
  (p, c, n) => [
    `The ${p} ${c} is certified for ambient temperatures down to minus ${n * 2} degrees.`,
    `What is the coldest ambient temperature for the ${p} ${c}?`,
  ],
  (p, c, n) => [
    `Tighten the ${c} mounting bolts of the ${p} to ${n * 5} newton metres.`,
    `Which torque do the ${p} ${c} mounting bolts need?`,
  ],
  (p, c, n) => [`The warranty of the ${p} ${c} lasts ${n} years from installation.`, `How long is the ${c} of the ${p} under warranty?`],
];

const ASPECTS = ['overview', 'installation', 'maintenance', 'troubleshooting', 'specifications', 'safety', 'storage', 'warranty'];

function productName(random: () => number): string {
  const syllables = ['ka', 'zo', 'ri', 'vel', 'mon', 'tra', 'qui', 'sen', 'dor', 'lux', 'pra', 'nim'];
  const word = Array.from({ length: 3 }, () => syllables[Math.floor(random() * syllables.length)]).join('');
  return `${word[0].toUpperCase()}${word.slice(1)} ${100 + Math.floor(random() * 900)}`;
}

export function generateEvalCorpus(documents = 60, seed = 2026): EvalCorpus {
  const random = seededRandom(seed);
  const corpus: EvalCorpus = { documents: [], queries: [] };
  for (let d = 0; d < documents; d++) {
    const product = productName(random);
    const documentId = `handbook-${d}`;
    const parts = [`# ${product} handbook`, paragraph(random, 2)];
    const sections = 8 + Math.floor(random() * 8);
    for (let s = 0; s < sections; s++) {
      const component = COMPONENTS[Math.floor(random() * COMPONENTS.length)];
      const heading = `${component[0].toUpperCase()}${component.slice(1)} ${ASPECTS[Math.floor(random() * ASPECTS.length)]}`;
      // Sizes from one sentence to several paragraphs: what real manuals look like.
      const body = Array.from({ length: Math.floor(random() * 4) }, () => paragraph(random));
      body.push(`${sentence(random)} The ${product} ${component} ${sentence(random).toLowerCase()}`);
      if (random() < 0.4) {
        const [fact, question] = FACTS[Math.floor(random() * FACTS.length)](product, component, 1 + Math.floor(random() * 20));
        body.splice(Math.floor(random() * (body.length + 1)), 0, fact);
        corpus.queries.push({ query: question, documentId, section: heading, answer: fact });
      }
      parts.push(`## ${heading}`, body.join('\n\n'));
    }
    corpus.documents.push({ documentId, title: `${product} handbook`, markdown: parts.join('\n\n') });
  }
  return corpus;
}
