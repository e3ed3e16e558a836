/**
 * The labelled dataset the example model learns from: short customer
 * messages across five intents, written out from templates and slot values
 * with a seeded generator, so every run yields the same messages.
 */
import { seededRandom, shuffled } from "./random";

/** The intents, in the order of the model's output columns. */
export const INTENTS = ["billing", "technical", "sales", "account", "spam"] as const;
/** One intent label. */
export type Intent = (typeof INTENTS)[number];

/** One labelled message. */
export interface Example {
  text: string;
  intent: Intent;
  /** Which of the intent's templates wrote it; the held-out split is by template. */
  template: number;
}

const SLOTS: Record<string, string[]> = {
  plan: ["pro", "team", "enterprise", "starter", "annual", "monthly"],
  month: ["january", "march", "june", "september", "last month", "this month"],
  amount: ["$49", "€120", "$9.99", "twice the usual amount", "$300", "€15"],
  device: ["iphone", "android app", "windows laptop", "mac", "web dashboard", "tablet"],
  error: ["error 500", "a blank screen", "a timeout", "error code 403", "a crash", "an infinite spinner"],
  feature: ["sso", "api access", "audit logs", "extra seats", "priority support", "custom domains"],
  team: ["50 people", "our sales team", "200 engineers", "a small startup", "three offices", "the whole company"],
  thing: ["password", "email address", "username", "two-factor code", "profile", "login"],
  prize: ["an iphone", "$1000", "a free cruise", "bitcoin", "a gift card", "cheap pills"],
};

const TEMPLATES: Record<Intent, string[]> = {
  billing: [
    "I was charged {amount} for my {plan} plan",
    "why is my invoice for {month} so high",
    "please refund the {amount} payment",
    "my credit card was billed twice in {month}",
    "can I get a receipt for the {plan} subscription",
    "how do I update the card used for billing",
    "the charge of {amount} on my statement is wrong",
    "cancel the renewal of my {plan} plan and refund me",
    "where do I download invoices for {month}",
    "I need a VAT invoice for {amount}",
  ],
  technical: [
    "the app shows {error} on my {device}",
    "I get {error} when I upload a file",
    "sync stopped working on the {device}",
    "the {device} keeps crashing after the update",
    "api requests return {error} since {month}",
    "pages load forever with {error}",
    "notifications do not arrive on my {device}",
    "the export feature fails with {error}",
    "integration with slack is broken and shows {error}",
    "how do I fix {error} on the {device}",
  ],
  sales: [
    "do you offer {feature} on the {plan} plan",
    "we want a quote for {team}",
    "is there a discount for {team}",
    "I would like a demo of {feature}",
    "what does the {plan} plan cost for {team}",
    "can we talk to sales about {feature}",
    "pricing for {team} with {feature}",
    "we are evaluating you for {team} and need {feature}",
    "do you have volume pricing for {team}",
    "interested in upgrading to {plan} for {feature}",
  ],
  account: [
    "I forgot my {thing}",
    "how do I change my {thing}",
    "reset my {thing} please",
    "I cannot log in because my {thing} is not accepted",
    "please delete my account and my data",
    "my {thing} was changed without my permission",
    "how can I add a colleague to my account",
    "I want to merge two accounts with the same {thing}",
    "lock my account, someone knows my {thing}",
    "verification of my {thing} never arrives",
  ],
  spam: [
    "congratulations you won {prize} click here",
    "buy {prize} now limited offer",
    "earn money fast with {prize}",
    "claim your {prize} today free free free",
    "hot singles want {prize}",
    "you are selected for {prize} reply with your bank details",
    "cheap followers and {prize} guaranteed",
    "act now to receive {prize} no strings attached",
    "winner winner {prize} just send a small fee",
    "exclusive deal {prize} unsubscribe never",
  ],
};

function fill(template: string, random: () => number): string {
  return template.replace(/\{(\w+)\}/g, (_, slot: string) => SLOTS[slot][Math.floor(random() * SLOTS[slot].length)]);
}

/** Generates `perIntent` distinct messages for every intent, shuffled. */
export function buildDataset(perIntent = 70, seed = 7): Example[] {
  const random = seededRandom(seed);
  const examples: Example[] = [];
  for (const intent of INTENTS) {
    const seen = new Map<string, number>();
    for (let attempt = 0; seen.size < perIntent && attempt < perIntent * 50; attempt++) {
      const template = attempt % TEMPLATES[intent].length;
      const text = fill(TEMPLATES[intent][template], random);
      if (!seen.has(text)) seen.set(text, template);
    }
    for (const [text, template] of seen) examples.push({ text, intent, template });
  }
  return shuffled(examples, random);
}

/**
 * Splits examples into training and held-out sets by template: the held-out
 * messages come from sentence shapes the model never saw, so the held-out
 * accuracy measures generalization rather than memorized templates.
 */
export function split(examples: readonly Example[], heldOutTemplates: readonly number[] = [3, 8]): { train: Example[]; test: Example[] } {
  const heldOut = (e: Example) => heldOutTemplates.includes(e.template);
  return { train: examples.filter((e) => !heldOut(e)), test: examples.filter(heldOut) };
}
