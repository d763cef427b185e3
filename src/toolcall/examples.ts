// A handful of tools with one question each, for the studio's playground: small enough to read at a glance,
// varied enough to show strings, enums, numbers, booleans, arrays and an empty answer.

import { pyInt, type JsonObject } from './json.ts';

export interface PlaygroundExample {
  title: string;
  tools: JsonObject[];
  question: string;
}

const getWeather: JsonObject = {
  name: 'get_weather',
  description: 'Get the current weather in a city.',
  parameters: {
    type: 'dict',
    properties: {
      city: { type: 'string', description: 'The city, e.g. "Lisbon".' },
      unit: { type: 'string', enum: ['celsius', 'fahrenheit'], description: 'Temperature unit.', default: 'celsius' },
    },
    required: ['city'],
  },
};

const convertCurrency: JsonObject = {
  name: 'convert_currency',
  description: 'Convert an amount of money from one currency to another.',
  parameters: {
    type: 'dict',
    properties: {
      amount: { type: 'float', description: 'The amount to convert.' },
      from_currency: { type: 'string', description: 'ISO code of the source currency, e.g. "EUR".' },
      to_currency: { type: 'string', description: 'ISO code of the target currency, e.g. "JPY".' },
    },
    required: ['amount', 'from_currency', 'to_currency'],
  },
};

const createEvent: JsonObject = {
  name: 'create_calendar_event',
  description: 'Add an event to the calendar.',
  parameters: {
    type: 'dict',
    properties: {
      title: { type: 'string', description: 'Short title of the event.' },
      date: { type: 'string', description: 'Date as YYYY-MM-DD.' },
      attendees: { type: 'array', items: { type: 'string' }, description: 'Names of the people invited.' },
      reminder: { type: 'boolean', description: 'Whether to send a reminder the day before.', default: false },
    },
    required: ['title', 'date'],
  },
};

const setTimer: JsonObject = {
  name: 'set_timer',
  description: 'Start a countdown timer.',
  parameters: {
    type: 'dict',
    properties: {
      minutes: { type: 'integer', description: 'Length of the timer in minutes.' },
      label: { type: 'string', description: 'Optional name shown when the timer rings.' },
    },
    required: ['minutes'],
  },
};

const searchRecipes: JsonObject = {
  name: 'search_recipes',
  description: 'Find recipes that use the given ingredients.',
  parameters: {
    type: 'dict',
    properties: {
      ingredients: { type: 'array', items: { type: 'string' }, description: 'Ingredients to use.' },
      max_minutes: { type: 'integer', description: 'Longest acceptable cooking time.', default: pyInt(60) },
    },
    required: ['ingredients'],
  },
};

export const PLAYGROUND_EXAMPLES: PlaygroundExample[] = [
  { title: 'Weather', tools: [getWeather], question: "What's the weather like in Oslo right now, in fahrenheit?" },
  {
    title: 'Currency',
    tools: [convertCurrency, getWeather],
    question: 'How many Japanese yen do I get for 250.5 euros?',
  },
  {
    title: 'Calendar',
    tools: [createEvent, setTimer],
    question: 'Put "Team lunch" on my calendar for 2025-06-12 and invite Ana and Joel.',
  },
  { title: 'Two timers', tools: [setTimer], question: 'Set a 10 minute timer for the pasta and a 25 minute one called focus.' },
  {
    title: 'Recipes',
    tools: [searchRecipes, convertCurrency],
    question: 'Find me something to cook with chickpeas and spinach in under 30 minutes.',
  },
  { title: 'No fitting tool', tools: [getWeather, setTimer], question: 'Who painted the Mona Lisa?' },
];
