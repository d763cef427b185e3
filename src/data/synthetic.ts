// The embedded default task: tool-calling requests generated offline from a seed.
//
// A catalogue of tools (string, enum, integer, float, boolean, array and nested-object parameters, required and
// optional) each comes with its own request templates; optional parameters are mentioned through clauses, so a
// request that does not mention one must not pass it. Requests are single calls, parallel calls (the same tool
// or several), calls among distractor tools, and requests no offered tool fits (answer: an empty list).
// The held-out split uses other tools, templates, connectors and off-topic requests than the train split, so
// its accuracy measures generalisation. Levels run from 'tiny' (a ~300k-parameter model: few short tools,
// simple values, one call) to 'hard' (for real Qwen2.5 models).

import { Rng } from '../util/random.ts';
import { canonicalJson, pyFloat, pyInt, type Json, type JsonObject } from '../toolcall/json.ts';
import type { ToolCall } from '../toolcall/decode.ts';
import type { Instance } from './instance.ts';

// ---- parameters ------------------------------------------------------------------------------------------

/** A sampled value and the words that stand for it in a request, keyed by placeholder name. */
interface Sampled {
  value: Json;
  phrases: Record<string, string>;
}

interface ParamDef {
  name: string;
  required: boolean;
  /** 1: strings, enums, integers; 2: floats, booleans; 3: arrays, nested objects. */
  complexity: 1 | 2 | 3;
  /** The JSON schema fragment the model sees (BFCL's type words). */
  spec: JsonObject;
  sample(rng: Rng): Sampled;
}

const one = (name: string, value: Json, phrase: string): Sampled => ({ value, phrases: { [name]: phrase } });

function text(name: string, description: string, pool: string[]): ParamDef {
  const sample = (rng: Rng) => {
    const v = rng.pick(pool);
    return one(name, v, v);
  };
  return { name, required: true, complexity: 1, spec: { type: 'string', description }, sample };
}

/** An enum whose values may be worded differently in requests: [value, phrase]. */
function choice(name: string, description: string, options: [string, string][]): ParamDef {
  const sample = (rng: Rng) => {
    const [v, phrase] = rng.pick(options);
    return one(name, v, phrase);
  };
  const spec: JsonObject = { type: 'string', enum: options.map(([v]) => v), description };
  return { name, required: true, complexity: 1, spec, sample };
}

function integer(name: string, description: string, lo: number, hi: number): ParamDef {
  const sample = (rng: Rng) => {
    const v = lo + rng.int(hi - lo + 1);
    return one(name, pyInt(v), String(v));
  };
  return { name, required: true, complexity: 1, spec: { type: 'integer', description }, sample };
}

/** Floats with one or two decimals, the last one non-zero, so the request spells the value as Python prints it. */
function decimal(name: string, description: string, lo: number, hi: number): ParamDef {
  const sample = (rng: Rng) => {
    const whole = lo + rng.int(hi - lo);
    const cents = rng.next() < 0.5 ? `${1 + rng.int(9)}` : `${rng.int(10)}${1 + rng.int(9)}`;
    const spelled = `${whole}.${cents}`;
    return one(name, pyFloat(Number(spelled)), spelled);
  };
  return { name, required: true, complexity: 2, spec: { type: 'float', description }, sample };
}

function flag(name: string, description: string, whenTrue: string, whenFalse: string): ParamDef {
  const sample = (rng: Rng) => {
    const v = rng.next() < 0.5;
    return one(name, v, v ? whenTrue : whenFalse);
  };
  return { name, required: true, complexity: 2, spec: { type: 'boolean', description }, sample };
}

/** 2–3 distinct strings, written "a, b and c". */
function list(name: string, description: string, pool: string[]): ParamDef {
  const sample = (rng: Rng) => {
    const items = rng.shuffle([...pool]).slice(0, 2 + rng.int(2));
    return one(name, items, `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`);
  };
  return { name, required: true, complexity: 3, spec: { type: 'array', items: { type: 'string' }, description }, sample };
}

/** A nested object; its fields are mentioned as {name.field}. */
function object(name: string, description: string, fields: ParamDef[]): ParamDef {
  const properties: JsonObject = {};
  for (const f of fields) properties[f.name] = f.spec;
  const spec: JsonObject = { type: 'dict', description, properties, required: fields.map((f) => f.name) };
  const sample = (rng: Rng): Sampled => {
    const value: JsonObject = {};
    const phrases: Record<string, string> = {};
    for (const f of fields) {
      const s = f.sample(rng);
      value[f.name] = s.value;
      for (const [k, p] of Object.entries(s.phrases)) phrases[`${name}.${k}`] = p;
    }
    return { value, phrases };
  };
  return { name, required: true, complexity: 3, spec, sample };
}

const optional = (p: ParamDef): ParamDef => ({ ...p, required: false });

// ---- tools -----------------------------------------------------------------------------------------------

interface ToolDef {
  name: string;
  description: string;
  params: ParamDef[];
  /** Requests mentioning every required parameter as {name}. */
  requests: string[];
  /** Ways to mention each optional parameter, added before the request's final punctuation. */
  clauses: Record<string, string[]>;
  /** Rejects sampled arguments that make no sense together. */
  accepts?: (args: JsonObject) => boolean;
}

const CITIES = ['Paris', 'Tokyo', 'Lima', 'Oslo', 'Cairo', 'Sydney', 'Toronto', 'Berlin', 'Madrid', 'Nairobi', 'Seoul', 'Dublin', 'Lisbon', 'Denver', 'Hanoi', 'Quito'];
const PEOPLE = ['Ana', 'Ben', 'Chloe', 'Dev', 'Elif', 'Femi', 'Grace', 'Hugo', 'Iris', 'Jonas', 'Kira', 'Leo', 'Maya', 'Nico', 'Omar', 'Priya'];
const CURRENCIES: [string, string][] = ['USD', 'EUR', 'GBP', 'JPY', 'CHF', 'CAD', 'AUD', 'INR'].map((c) => [c, c]);
const WEEKDAYS: [string, string][] = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday'].map((d) => [d, d[0].toUpperCase() + d.slice(1)]);

const TRAIN_TOOLS: ToolDef[] = [
  {
    name: 'get_weather',
    description: 'Get the current weather in a city.',
    params: [text('city', 'Name of the city.', CITIES), optional(choice('unit', 'Temperature unit.', [['celsius', 'celsius'], ['fahrenheit', 'fahrenheit']]))],
    requests: ["What's the weather in {city}?", 'How is the weather in {city} today?', 'Tell me the current weather for {city}.', 'Is it cold in {city} right now?'],
    clauses: { unit: [' in {unit}', ' with temperatures in {unit}'] },
  },
  {
    name: 'set_timer',
    description: 'Start a countdown timer.',
    params: [integer('minutes', 'Length of the timer in minutes.', 1, 90), optional(text('label', 'Name shown when the timer ends.', ['tea', 'pasta', 'laundry', 'workout', 'nap', 'bread']))],
    requests: ['Set a timer for {minutes} minutes.', 'Start a {minutes} minute timer.', 'Count down {minutes} minutes for me.'],
    clauses: { label: [' called {label}', ' labelled {label}'] },
  },
  {
    name: 'translate_text',
    description: 'Translate a short text into another language.',
    params: [
      text('text', 'The text to translate.', ['good morning', 'where is the station', 'thank you very much', 'see you tomorrow', 'the bill please', 'I am lost']),
      choice('target_language', 'Language to translate into.', [['french', 'French'], ['german', 'German'], ['spanish', 'Spanish'], ['italian', 'Italian'], ['japanese', 'Japanese']]),
    ],
    requests: ['Translate "{text}" into {target_language}.', 'How do you say "{text}" in {target_language}?', 'Put "{text}" in {target_language} for me.'],
    clauses: {},
  },
  {
    name: 'get_stock_price',
    description: 'Get the latest price of a stock.',
    params: [text('symbol', 'Ticker symbol.', ['AAPL', 'MSFT', 'NVDA', 'TSLA', 'AMZN', 'IBM', 'SAP', 'SONY'])],
    requests: ["What's the stock price of {symbol}?", 'How is {symbol} trading today?', 'Get me the latest quote for {symbol}.'],
    clauses: {},
  },
  {
    name: 'play_radio',
    description: 'Tune in to a radio station.',
    params: [text('station', 'Station name.', ['Jazz FM', 'Radio One', 'Classic Hits', 'News 24', 'Chill Wave']), optional(integer('volume', 'Volume from 1 to 10.', 1, 10))],
    requests: ['Play {station}.', 'Put on {station}, please.', 'Tune in to {station}.'],
    clauses: { volume: [' at volume {volume}', ' with the volume on {volume}'] },
  },
  {
    name: 'get_definition',
    description: 'Look up the meaning of a word.',
    params: [text('word', 'The word to define.', ['serendipity', 'ephemeral', 'laconic', 'ubiquitous', 'candid', 'verbose']), optional(choice('language', 'Dictionary language.', [['en', 'English'], ['es', 'Spanish'], ['de', 'German']]))],
    requests: ['What does {word} mean?', 'Define {word}.', 'Look up the word {word}.'],
    clauses: { language: [' in the {language} dictionary', ' using {language}'] },
  },
  {
    name: 'order_taxi',
    description: 'Order a taxi between two places.',
    params: [
      text('pickup', 'Where to be picked up.', ['the airport', 'Central Station', 'the hotel', 'Main Street 5', 'the museum']),
      text('destination', 'Where to go.', ['the stadium', 'Harbor Road 12', 'the university', 'the old town', 'the hospital']),
      optional(integer('seats', 'Number of seats needed.', 1, 6)),
    ],
    requests: ['Get me a taxi from {pickup} to {destination}.', 'Order a cab from {pickup} to {destination}.', 'I need a ride from {pickup} to {destination}.'],
    clauses: { seats: [' for {seats} people', ' with {seats} seats'] },
  },
  {
    name: 'convert_currency',
    description: 'Convert an amount of money between currencies.',
    params: [decimal('amount', 'Amount to convert.', 1, 500), choice('from_currency', 'Currency code to convert from.', CURRENCIES), choice('to_currency', 'Currency code to convert to.', CURRENCIES)],
    requests: ['Convert {amount} {from_currency} to {to_currency}.', 'How much is {amount} {from_currency} in {to_currency}?', 'Change {amount} {from_currency} into {to_currency}.'],
    clauses: {},
    accepts: (args) => args.from_currency !== args.to_currency,
  },
  {
    name: 'send_message',
    description: 'Send a text message to a contact.',
    params: [
      text('recipient', 'Who gets the message.', PEOPLE),
      text('text', 'The message.', ['running late', 'call me back', 'dinner at eight', 'happy birthday', 'meeting moved to noon']),
      optional(flag('urgent', 'Mark the message as urgent.', 'urgent', 'not urgent')),
    ],
    requests: ['Send {recipient} a message saying "{text}".', 'Text {recipient} "{text}".', 'Message {recipient} with "{text}".'],
    clauses: { urgent: [' and flag it as {urgent}', ', {urgent}'] },
  },
  {
    name: 'book_table',
    description: 'Reserve a table at a restaurant.',
    params: [
      text('restaurant', 'Restaurant name.', ['Luigi', 'Sakura', 'El Toro', 'The Green Fork', 'Bistro 9']),
      integer('party_size', 'Number of guests.', 1, 12),
      text('time', 'Time as HH:MM.', ['18:00', '18:30', '19:00', '19:30', '20:00', '20:30']),
      optional(flag('outdoor', 'Sit outside.', 'outside', 'inside')),
    ],
    requests: ['Book a table at {restaurant} for {party_size} people at {time}.', 'Please reserve {restaurant} for {party_size} at {time}.'],
    clauses: { outdoor: [' {outdoor}', ', seated {outdoor}'] },
  },
  {
    name: 'calculate_tip',
    description: 'Compute the tip for a bill.',
    params: [decimal('bill', 'Bill amount.', 5, 300), integer('percent', 'Tip percentage.', 5, 30)],
    requests: ["What's a {percent}% tip on {bill}?", 'Calculate a {percent} percent tip for a bill of {bill}.'],
    clauses: {},
  },
  {
    name: 'find_hotels',
    description: 'Search hotels in a city.',
    params: [text('city', 'City to search in.', CITIES), integer('nights', 'Number of nights.', 1, 14), optional(decimal('max_price', 'Highest price per night.', 40, 400))],
    requests: ['Find hotels in {city} for {nights} nights.', 'Search for a hotel in {city}, {nights} nights.'],
    clauses: { max_price: [' under {max_price} per night', ' at most {max_price} a night'] },
  },
  {
    name: 'create_playlist',
    description: 'Create a music playlist.',
    params: [text('name', 'Playlist name.', ['Road Trip', 'Focus', 'Sunday', 'Gym', 'Rainy Day']), list('songs', 'Song titles, in order.', ['Yellow', 'Hey Jude', 'Clocks', 'Dreams', 'Roxanne', 'Vogue', 'Jolene'])],
    requests: ['Make a playlist named {name} with {songs}.', 'Create a playlist called {name} containing {songs}.'],
    clauses: {},
  },
  {
    name: 'add_contact',
    description: 'Save a new contact.',
    params: [
      object('contact', 'The contact to save.', [text('name', 'Full name.', ['Ana Silva', 'Ben Okafor', 'Chloe Martin', 'Dev Patel']), text('phone', 'Phone number.', ['555-0101', '555-0199', '555-0142', '555-0177'])]),
      optional(flag('favorite', 'Add to favourites.', 'a favorite', 'not a favorite')),
    ],
    requests: ['Save {contact.name} with the number {contact.phone} to my contacts.', 'Add a contact: {contact.name}, phone {contact.phone}.'],
    clauses: { favorite: [' and mark them as {favorite}'] },
  },
  {
    name: 'search_recipes',
    description: 'Find recipes using some ingredients.',
    params: [
      list('ingredients', 'Ingredients to use.', ['rice', 'eggs', 'tomatoes', 'spinach', 'chicken', 'lentils', 'garlic']),
      optional(integer('max_minutes', 'Longest cooking time.', 10, 90)),
      optional(flag('vegetarian', 'Only vegetarian recipes.', 'vegetarian', 'not necessarily vegetarian')),
    ],
    requests: ['Find recipes with {ingredients}.', 'What can I cook with {ingredients}?'],
    clauses: { max_minutes: [' in under {max_minutes} minutes'], vegetarian: [', {vegetarian}'] },
  },
  {
    name: 'schedule_meeting',
    description: 'Put a meeting in the calendar.',
    params: [
      text('title', 'Meeting title.', ['budget review', 'team sync', 'design critique', 'planning session']),
      choice('day', 'Weekday of the meeting.', WEEKDAYS),
      list('attendees', 'People to invite.', PEOPLE),
      optional(integer('duration_minutes', 'Length in minutes.', 15, 120)),
    ],
    requests: ['Schedule a {title} on {day} with {attendees}.', 'Set up a {title} for {day} and invite {attendees}.'],
    clauses: { duration_minutes: [' for {duration_minutes} minutes', ' lasting {duration_minutes} minutes'] },
  },
];

const HELDOUT_TOOLS: ToolDef[] = [
  {
    name: 'find_flights',
    description: 'Search flights between two cities.',
    params: [
      text('origin', 'Departure city.', CITIES),
      text('destination', 'Arrival city.', CITIES),
      optional(integer('passengers', 'Number of travellers.', 1, 6)),
      optional(choice('cabin', 'Cabin class.', [['economy', 'economy'], ['business', 'business'], ['first', 'first class']])),
    ],
    requests: ['Look for flights from {origin} to {destination}.', 'Are there flights between {origin} and {destination}?'],
    clauses: { passengers: [' for {passengers} passengers'], cabin: [' in {cabin}'] },
    accepts: (args) => args.origin !== args.destination,
  },
  {
    name: 'track_package',
    description: 'Show where a parcel is.',
    params: [text('tracking_id', 'The tracking code.', ['ZX4411', 'QP0923', 'LM7780', 'RT5512', 'HB3306']), optional(choice('carrier', 'Delivery company.', [['dhl', 'DHL'], ['ups', 'UPS'], ['fedex', 'FedEx']]))],
    requests: ['Where is my package {tracking_id}?', 'Track parcel {tracking_id}.'],
    clauses: { carrier: [' sent with {carrier}', ' from {carrier}'] },
  },
  {
    name: 'play_song',
    description: 'Play a song.',
    params: [text('title', 'Song title.', ['Yesterday', 'Halo', 'Imagine', 'Wonderwall', 'Skyfall']), optional(text('artist', 'Performer.', ['Adele', 'Oasis', 'Beyonce', 'The Beatles']))],
    requests: ['Could you play {title}?', 'I want to hear {title}.'],
    clauses: { artist: [' by {artist}'] },
  },
  {
    name: 'create_reminder',
    description: 'Remind the user of something at a given hour.',
    params: [text('text', 'What to be reminded of.', ['water the plants', 'call mom', 'take the pills', 'pay rent']), integer('hour', 'Hour of the day, 0 to 23.', 0, 23), optional(integer('minute', 'Minute, 0 to 59.', 0, 59))],
    requests: ['Remind me to {text} at hour {hour}.', 'At {hour} o clock, remind me to {text}.'],
    clauses: { minute: [' and minute {minute}'] },
  },
  {
    name: 'set_thermostat',
    description: 'Set the temperature of a room.',
    params: [decimal('temperature', 'Target temperature in degrees.', 15, 28), choice('room', 'Which room.', [['living_room', 'living room'], ['bedroom', 'bedroom'], ['kitchen', 'kitchen']]), optional(flag('eco_mode', 'Save energy.', 'in eco mode', 'without eco mode'))],
    requests: ['Set the {room} to {temperature} degrees.', 'Make the {room} {temperature} degrees.'],
    clauses: { eco_mode: [' {eco_mode}'] },
  },
  {
    name: 'log_workout',
    description: 'Record an exercise session.',
    params: [choice('activity', 'Kind of exercise.', [['running', 'ran'], ['cycling', 'cycled'], ['swimming', 'swam']]), integer('minutes', 'Duration in minutes.', 10, 120), optional(decimal('calories', 'Calories burned.', 50, 900))],
    requests: ['Log that I {activity} for {minutes} minutes.', 'Today I {activity} {minutes} minutes, note it.'],
    clauses: { calories: [' and burned {calories} calories'] },
  },
  {
    name: 'order_pizza',
    description: 'Order pizzas for delivery.',
    params: [choice('size', 'Pizza size.', [['small', 'small'], ['medium', 'medium'], ['large', 'large']]), list('toppings', 'Toppings.', ['mushrooms', 'olives', 'ham', 'peppers', 'onions', 'basil']), integer('quantity', 'How many pizzas.', 1, 5)],
    requests: ['Order {quantity} {size} pizzas with {toppings}.', 'I would like {quantity} {size} pizzas topped with {toppings}.'],
    clauses: {},
  },
  {
    name: 'rent_car',
    description: 'Rent a car.',
    params: [
      text('city', 'Pick-up city.', CITIES),
      integer('days', 'Rental length in days.', 1, 21),
      object('car', 'The car wanted.', [choice('category', 'Car category.', [['compact', 'compact'], ['suv', 'SUV'], ['van', 'van']]), flag('automatic', 'Automatic gearbox.', 'automatic', 'manual')]),
    ],
    requests: ['Rent a {car.automatic} {car.category} in {city} for {days} days.', 'I need a {car.category} with a {car.automatic} gearbox in {city}, {days} days.'],
    clauses: {},
  },
];

/** Requests no tool can serve. */
const OFF_TOPIC = {
  train: ['Tell me a joke about cats.', 'Who wrote Hamlet?', 'What is the capital of Peru?', 'How are you today?', 'Explain photosynthesis simply.', 'What is 7 times 8?', 'Recommend a good novel.', 'Why is the sky blue?'],
  heldout: ['Who painted the Mona Lisa?', 'What year did the Berlin Wall fall?', 'Can you write a haiku about rain?', 'How many legs does a spider have?'],
};

/** How several requests are joined into one message. */
const CONNECTORS: Record<'train' | 'heldout', ((parts: string[]) => string)[]> = {
  train: [(parts) => parts.join(' '), (parts) => parts.join(' Also: '), (parts) => parts.join(' Then: ')],
  heldout: [(parts) => parts.join(' And one more thing. '), (parts) => `Several requests. ${parts.join(' ')}`],
};

// ---- levels ----------------------------------------------------------------------------------------------

export type SyntheticLevel = 'tiny' | 'small' | 'medium' | 'hard';
export type SyntheticSplit = 'train' | 'heldout';

export interface LevelConfig {
  /** Highest parameter complexity among the tools used. */
  maxComplexity: 1 | 2 | 3;
  /** How many tools a prompt offers, [min, max]. */
  toolsOffered: [number, number];
  /** Most calls one request asks for. */
  maxCalls: number;
  /** Share of requests with several calls. */
  parallel: number;
  /** Share of requests no offered tool fits. */
  noCall: number;
  /** Of those, the share asking for a real tool that is not offered (the rest are off-topic). */
  missingTool: number;
  /** Chance that each optional parameter is mentioned. */
  optional: number;
  /** Suggested split sizes. */
  size: Record<SyntheticSplit, number>;
}

export const SYNTHETIC_LEVELS: Record<SyntheticLevel, LevelConfig> = {
  tiny: { maxComplexity: 1, toolsOffered: [1, 2], maxCalls: 1, parallel: 0, noCall: 0.2, missingTool: 0, optional: 0.3, size: { train: 4000, heldout: 200 } },
  small: { maxComplexity: 2, toolsOffered: [1, 3], maxCalls: 2, parallel: 0.2, noCall: 0.15, missingTool: 0.3, optional: 0.4, size: { train: 8000, heldout: 400 } },
  medium: { maxComplexity: 3, toolsOffered: [2, 4], maxCalls: 3, parallel: 0.3, noCall: 0.15, missingTool: 0.5, optional: 0.5, size: { train: 20000, heldout: 500 } },
  hard: { maxComplexity: 3, toolsOffered: [3, 6], maxCalls: 4, parallel: 0.4, noCall: 0.15, missingTool: 0.6, optional: 0.5, size: { train: 40000, heldout: 500 } },
};

const complexity = (tool: ToolDef) => Math.max(...tool.params.map((p) => p.complexity));

/** The tool spec shown to the model. */
function toolSpec(tool: ToolDef): JsonObject {
  const properties: JsonObject = {};
  for (const p of tool.params) properties[p.name] = p.spec;
  const required = tool.params.filter((p) => p.required).map((p) => p.name);
  return { name: tool.name, description: tool.description, parameters: { type: 'dict', properties, required } };
}

function toolsFor(split: SyntheticSplit, level: SyntheticLevel): ToolDef[] {
  const tools = split === 'train' ? TRAIN_TOOLS : HELDOUT_TOOLS;
  return tools.filter((t) => complexity(t) <= SYNTHETIC_LEVELS[level].maxComplexity);
}

/** The split's tool specs and request templates (for inspection and tests). */
export function syntheticCatalogue(split: SyntheticSplit, level: SyntheticLevel): { spec: JsonObject; requests: string[] }[] {
  return toolsFor(split, level).map((t) => ({ spec: toolSpec(t), requests: t.requests }));
}

// ---- generation ------------------------------------------------------------------------------------------

/** Inserts a clause before the request's final punctuation (or quote-ended text's end). */
function withClause(request: string, clause: string): string {
  const m = /[.?!]$/.exec(request);
  return m ? request.slice(0, -1) + clause + m[0] : request + clause;
}

/** One call of a tool and the request asking for it. */
function sampleRequest(tool: ToolDef, rng: Rng, config: LevelConfig): { call: ToolCall; text: string } {
  for (;;) {
    const args: JsonObject = {};
    const phrases: Record<string, string> = {};
    let request = rng.pick(tool.requests);
    for (const p of tool.params) {
      const clauses = tool.clauses[p.name];
      const mentioned = p.required || (clauses !== undefined && rng.next() < config.optional);
      if (!mentioned) continue;
      const s = p.sample(rng);
      args[p.name] = s.value;
      Object.assign(phrases, s.phrases);
      if (!p.required) request = withClause(request, rng.pick(clauses!));
    }
    if (tool.accepts && !tool.accepts(args)) continue;
    const text = request.replace(/\{([\w.]+)\}/g, (_, key: string) => phrases[key]);
    return { call: { name: tool.name, arguments: args }, text };
  }
}

/** k requests for `targets` (a tool may repeat; repeated calls get distinct arguments). */
function sampleCalls(targets: ToolDef[], rng: Rng, config: LevelConfig): { calls: ToolCall[]; texts: string[] } {
  const calls: ToolCall[] = [];
  const texts: string[] = [];
  const seen = new Set<string>();
  for (const tool of targets) {
    let r = sampleRequest(tool, rng, config);
    for (let tries = 0; seen.has(canonicalJson([r.call.name, r.call.arguments])) && tries < 20; tries++) r = sampleRequest(tool, rng, config);
    seen.add(canonicalJson([r.call.name, r.call.arguments]));
    calls.push(r.call);
    texts.push(r.text);
  }
  return { calls, texts };
}

/** Distinct tools: `wanted` first, then distractors from the pool, `count` in all, shuffled. */
function offer(pool: ToolDef[], wanted: ToolDef[], count: number, rng: Rng, exclude: ToolDef[] = []): ToolDef[] {
  const unique = [...new Set(wanted)];
  const others = rng.shuffle(pool.filter((t) => !unique.includes(t) && !exclude.includes(t)));
  return rng.shuffle([...unique, ...others.slice(0, Math.max(0, count - unique.length))]);
}

function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

export interface SyntheticOptions {
  level: SyntheticLevel;
  split: SyntheticSplit;
  seed: number;
  /** Defaults to the level's suggested size for the split. */
  count?: number;
}

/** Deterministic in (seed, level, split): the same options always give the same instances. */
export function generateSynthetic(options: SyntheticOptions): Instance[] {
  const { level, split, seed } = options;
  const config = SYNTHETIC_LEVELS[level];
  const count = options.count ?? config.size[split];
  const rng = new Rng(fnv1a(`${seed}|${level}|${split}`));
  const pool = toolsFor(split, level);
  const connectors = CONNECTORS[split];
  const [minTools, maxTools] = config.toolsOffered;

  const instances: Instance[] = [];
  for (let i = 0; i < count; i++) {
    const toolCount = Math.min(pool.length, minTools + rng.int(maxTools - minTools + 1));
    const roll = rng.next();
    let tools: ToolDef[];
    let answers: ToolCall[];
    let request: string;
    if (roll < config.noCall) {
      answers = [];
      if (rng.next() < config.missingTool && toolCount < pool.length) {
        const asked = rng.pick(pool);
        tools = offer(pool, [], toolCount, rng, [asked]);
        request = sampleRequest(asked, rng, config).text;
      } else {
        tools = offer(pool, [], toolCount, rng);
        request = rng.pick(OFF_TOPIC[split]);
      }
    } else {
      const callCount = roll < config.noCall + config.parallel ? 2 + rng.int(config.maxCalls - 1) : 1;
      // Parallel requests either repeat one tool or mix several (when more than one is offered).
      const first = rng.pick(pool);
      const targets = Array.from({ length: callCount }, (_, k) => (k === 0 || toolCount === 1 || rng.next() < 0.5 ? first : rng.pick(pool)));
      tools = offer(pool, targets, Math.max(toolCount, new Set(targets).size), rng);
      const sampled = sampleCalls(targets, rng, config);
      answers = sampled.calls;
      request = rng.pick(connectors)(sampled.texts);
    }
    instances.push({
      id: `synthetic-${level}-${split}-${seed}-${i}`,
      turns: [{ role: 'user', content: request }],
      tools: tools.map(toolSpec),
      answers,
    });
  }
  return instances;
}
