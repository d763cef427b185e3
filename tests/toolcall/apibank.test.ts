import { describe, expect, it } from 'vitest';
import { apiBankLevelOfFileName, judgeApiBank, parseApiBank, parseApiRequest, scoreApiBank, type ApiBankSample } from '../../src/toolcall/apibank.ts';
import { renderPrompt } from '../../src/toolcall/template.ts';
import { pyDumps } from '../../src/toolcall/json.ts';

// Samples written in the format of API-Bank's test-data/level-{1,2}-api.json.
const describeApi = (name: string, params: Record<string, string>) =>
  JSON.stringify({
    name,
    description: `The ${name} API.`,
    input_parameters: Object.fromEntries(Object.entries(params).map(([k, type]) => [k, { type, description: k }])),
    output_parameters: { status: { type: 'str', description: 'status' } },
  });
const instruction = (...apis: string[]) =>
  "\nGenerate an API request in the format of [ApiName(key1='value1', key2='value2', ...)] based on the previous dialogue context.\n" +
  'The current year is 2023.\nInput: \nUser: User\'s utterence\nAI: AI\'s response\n\nExpected output:\nAPI-Request: [ApiName(key1=\'value1\', key2=\'value2\', ...)]\n\nAPI descriptions:\n' +
  apis.join('\n');
const sample = (file: string, apis: string[], input: string, expected: string) => ({ file, id: 0, instruction: instruction(...apis), input, expected_output: `API-Request: ${expected}` });

const AGENDA = describeApi('AddAgenda', { token: 'str', content: 'str', time: 'str', location: 'str' });
const HOTEL = describeApi('BookHotel', { hotel_name: 'str', check_in_time: 'str', check_out_time: 'str', room_count: 'int', adult_count: 'int', child_count: 'int' });
const MEETING = describeApi('AddMeeting', { token: 'str', meeting_topic: 'str', start_time: 'str', end_time: 'str', location: 'str', attendees: 'list(str)' });
const SEARCHER = describeApi('ToolSearcher', { keywords: 'str' });

const LEVEL1 = [
  sample(
    'AddAgenda-level-1-1.jsonl',
    [AGENDA, describeApi('GetUserToken', { username: 'str', password: 'str' })],
    'User: Add "meet the team for lunch" tomorrow at noon at Cafe Blue.\nAI: I need a token.\n' +
      "API-Request: [GetUserToken(username='ana', password='pw1')]->{'token': 'tok42'}\nAI: Adding it now.\nGenerate API Request:\n",
    "[AddAgenda(token='tok42', content='meet the team for lunch', time='2023-03-16 12:00:00', location='Cafe Blue')]",
  ),
  sample('BookHotel-level-1-1.jsonl', [HOTEL], 'User: Book the Hilton.\nGenerate API Request:\n',
    "[BookHotel(hotel_name='Hilton', check_in_time='2023-08-10', check_out_time='2023-08-15', room_count='1', adult_count='2', child_count='0')]"),
  sample('AddMeeting-level-1-1.jsonl', [MEETING], "User: Set up John's review.\nGenerate API Request:\n",
    "[AddMeeting(token='t1', meeting_topic='John's design review', start_time='2023-05-01 10:00:00', end_time='2023-05-01 11:00:00', location='Room 4', attendees='['John Smith', 'Ana']')]"),
  sample('QueryHistoryToday-level-1-1.jsonl', [describeApi('QueryHistoryToday', { date: 'str' })], 'User: What happened on April 21?\nGenerate API Request:\n', "[QueryHistoryToday(date='04-21')]"),
  sample('Calculator-level-1-1.jsonl', [describeApi('Calculator', { formula: 'str' })], 'User: (2+3)*5?\nGenerate API Request:\n', "[Calculator(formula='(2+3)*5')]"),
  sample('ModifyRegistration-level-1-1.jsonl', [describeApi('ModifyRegistration', { appointment_id: 'str', new_appointment_date: 'str', new_appointment_doctor: 'str' })],
    'User: Move 34567890 to March 26.\nGenerate API Request:\n', "[ModifyRegistration(appointment_id='34567890', new_appointment_date='2023-03-26')]"),
  sample('TimedSwitch-level-1-1.jsonl', [describeApi('TimedSwitch', { name: 'str', time: 'str', on: 'bool' })], 'User: Device 1234 on at 7pm.\nGenerate API Request:\n',
    "[TimedSwitch(device_id='1234', time='2021-12-05 19:00:00', on='True')]"),
  sample('GetToday-level-1-1.jsonl', [describeApi('GetToday', {})], 'User: What day is it?\nGenerate API Request:\n', '[GetToday()]'),
];
const LEVEL2 = [
  sample('Calculator-level-3-1.jsonl', [SEARCHER],
    "User: Square of 8?\nAPI-Request: [ToolSearcher(keywords='calculate the square of 8')]->{'name': 'Calculator', 'input_parameters': {'formula': {'type': 'str'}}}\nGenerate API Request:\n",
    "[Calculator(formula='8*8')]"),
  sample('QueryReminder-level-3-1.jsonl', [SEARCHER], 'User: Find me an alarm clock API.\nGenerate API Request:\n', "[ToolSearcher(keywords='alarm clock')]"),
];

const level1 = parseApiBank(JSON.stringify(LEVEL1, null, 2), 1);
const level2 = parseApiBank(JSON.stringify(LEVEL2), 2);
const byFile = (file: string): ApiBankSample => [...level1.records, ...level2.records].find((s) => s.id.startsWith(file))!;
const answer = (name: string, args: string) => `<think>ok</think>\n<tool_call>[{"name": "${name}", "arguments": ${args}}]</tool_call>`;

// [dialogue file, completion, expected error or null when correct]
const CASES: [string, string, string | null][] = [
  ['AddAgenda-level-1-1', answer('AddAgenda', '{"token": "tok42", "content": "meet the team for lunch", "time": "2023-03-16 12:00:00", "location": "Cafe Blue"}'), null],
  // free text: space-separated token Jaccard > 0.5 (case-sensitive for agendas)
  ['AddAgenda-level-1-1', answer('AddAgenda', '{"token": "tok42", "content": "meet the team for a lunch", "time": "2023-03-16 12:00:00", "location": "Cafe Blue"}'), null],
  ['AddAgenda-level-1-1', answer('AddAgenda', '{"token": "tok42", "content": "team lunch", "time": "2023-03-16 12:00:00", "location": "Cafe Blue"}'), 'input_mismatch'],
  ['AddAgenda-level-1-1', answer('AddAgenda', '{"token": "tok42", "content": "meet the team for lunch", "time": "2023-03-16 12:00", "location": "Cafe Blue"}'), 'input_mismatch'],
  ['AddAgenda-level-1-1', answer('AddAgenda', '{"token": "tok42", "content": "meet the team for lunch", "time": "2023-03-16 12:00:00"}'), 'missing_parameter'],
  ['AddAgenda-level-1-1', answer('AddAgenda', '{"token": "tok42", "content": "x", "time": "t", "location": "l", "priority": "high"}'), 'invalid_parameter'],
  ['AddAgenda-level-1-1', answer('GetUserToken', '{"username": "ana", "password": "pw1"}'), 'api_name_mismatch'],
  ['AddAgenda-level-1-1', 'API-Request: [AddAgenda(token=\'tok42\')]', 'no_api_call'],
  ['AddAgenda-level-1-1', '<tool_call>[]</tool_call>', 'no_api_call'],
  // values are cast by the declared type: "2" is an int, 2.0 and "two" are not
  ['BookHotel-level-1-1', answer('BookHotel', '{"hotel_name": "Hilton", "check_in_time": "2023-08-10", "check_out_time": "2023-08-15", "room_count": 1, "adult_count": "2", "child_count": 0}'), null],
  ['BookHotel-level-1-1', answer('BookHotel', '{"hotel_name": "Hilton", "check_in_time": "2023-08-10", "check_out_time": "2023-08-15", "room_count": 1, "adult_count": 2.0, "child_count": 0}'), 'invalid_parameter_type'],
  ['BookHotel-level-1-1', answer('BookHotel', '{"hotel_name": "Hilton", "check_in_time": "2023-08-10", "check_out_time": "2023-08-15", "room_count": "two", "adult_count": 2, "child_count": 0}'), 'invalid_parameter_type'],
  ['BookHotel-level-1-1', answer('BookHotel', '{"hotel_name": "hilton", "check_in_time": "2023-08-10", "check_out_time": "2023-08-15", "room_count": 1, "adult_count": 2, "child_count": 0}'), 'input_mismatch'],
  // meetings: topic by Jaccard, the rest exact; lists as JSON or as Python list text
  ['AddMeeting-level-1-1', answer('AddMeeting', '{"token": "t1", "meeting_topic": "John\'s design review", "start_time": "2023-05-01 10:00:00", "end_time": "2023-05-01 11:00:00", "location": "Room 4", "attendees": ["John Smith", "Ana"]}'), null],
  ['AddMeeting-level-1-1', answer('AddMeeting', '{"token": "t1", "meeting_topic": "design review", "start_time": "2023-05-01 10:00:00", "end_time": "2023-05-01 11:00:00", "location": "Room 4", "attendees": "[\'John Smith\', \'Ana\']"}'), null],
  ['AddMeeting-level-1-1', answer('AddMeeting', '{"token": "t1", "meeting_topic": "design review", "start_time": "2023-05-01 10:00:00", "end_time": "2023-05-01 11:00:00", "location": "Room 4", "attendees": ["Ana", "John Smith"]}'), 'input_mismatch'],
  ['AddMeeting-level-1-1', answer('AddMeeting', '{"token": "t1", "meeting_topic": "review", "start_time": "2023-05-01 10:00:00", "end_time": "2023-05-01 11:00:00", "location": "Room 4", "attendees": "Ana"}'), 'invalid_parameter_type'],
  // date normalisation as the official format_check does it
  ['QueryHistoryToday-level-1-1', answer('QueryHistoryToday', '{"date": "2023-04-21"}'), null],
  ['QueryHistoryToday-level-1-1', answer('QueryHistoryToday', '{"date": "4-21"}'), null],
  ['QueryHistoryToday-level-1-1', answer('QueryHistoryToday', '{"date": "April 21"}'), 'input_mismatch'],
  ['ModifyRegistration-level-1-1', answer('ModifyRegistration', '{"appointment_id": " 34567890 ", "new_appointment_date": "2023-3-26"}'), null],
  ['ModifyRegistration-level-1-1', answer('ModifyRegistration', '{"appointment_id": 34567890, "new_appointment_date": "23-03-26"}'), 'input_mismatch'],
  ['ModifyRegistration-level-1-1', answer('ModifyRegistration', '{"appointment_id": "34567890", "new_appointment_date": "2023-03-26", "new_appointment_doctor": "Dr. Lee"}'), 'input_mismatch'],
  ['ModifyRegistration-level-1-1', answer('ModifyRegistration', '{"new_appointment_date": "2023-03-26"}'), 'missing_parameter'],
  ['Calculator-level-1-1', answer('Calculator', '{"formula": "(2 + 3) * 5"}'), null],
  ['Calculator-level-1-1', answer('Calculator', '{"formula": "5*(2+3)"}'), 'input_mismatch'],
  // the ground truth's own parameter names are accepted (data quirk), bool is `== 'True'`
  ['TimedSwitch-level-1-1', answer('TimedSwitch', '{"device_id": "1234", "time": "2021-12-05 19:00:00", "on": true}'), null],
  ['TimedSwitch-level-1-1', answer('TimedSwitch', '{"device_id": "1234", "time": "2021-12-05 19:00:00", "on": "true"}'), 'input_mismatch'],
  ['GetToday-level-1-1', answer('GetToday', '{}'), null],
  ['GetToday-level-1-1', answer('GetToday', '{"date": "today"}'), 'invalid_parameter'],
  // Level-2: calls to APIs found through ToolSearcher; ToolSearcher keywords by lower-cased Jaccard
  ['Calculator-level-3-1', answer('Calculator', '{"formula": "8 * 8"}'), null],
  ['QueryReminder-level-3-1', answer('ToolSearcher', '{"keywords": "Alarm Clock"}'), null],
  ['QueryReminder-level-3-1', answer('ToolSearcher', '{"keywords": "alarm"}'), 'input_mismatch'],
];

describe('API-Bank judge (official per-API rules on the inputs)', () => {
  for (const [file, completion, error] of CASES) {
    it(`${file}: ${completion.replace(/^<think>ok<\/think>\n/, '').slice(0, 140)} → ${error ?? 'correct'}`, () => {
      expect(judgeApiBank(byFile(file), completion)).toEqual({ correct: error === null, error });
    });
  }
});

describe('API-Bank samples', () => {
  it('load both levels without errors', () => {
    expect(level1.errors).toEqual([]);
    expect(level2.errors).toEqual([]);
    expect(level1.records.map((s) => s.level)).toEqual(LEVEL1.map(() => 1));
    expect(byFile('BookHotel').expected).toEqual({
      name: 'BookHotel',
      arguments: expect.objectContaining({ hotel_name: 'Hilton' }),
    });
  });

  it('render in the thinking template: descriptions as tools, earlier calls as tool calls and results', () => {
    const s = byFile('AddAgenda-level-1-1');
    expect(s.tools.map((t) => t.name)).toEqual(['AddAgenda', 'GetUserToken']);
    expect(s.system).toBe('The current year is 2023.');
    expect(s.turns).toEqual([
      { role: 'user', content: 'Add "meet the team for lunch" tomorrow at noon at Cafe Blue.' },
      { role: 'assistant', content: 'I need a token.', toolCalls: [{ name: 'GetUserToken', arguments: { username: 'ana', password: 'pw1' } }] },
      { role: 'tool', content: "{'token': 'tok42'}" },
      { role: 'assistant', content: 'Adding it now.' },
    ]);
    const prompt = renderPrompt(s);
    expect(prompt).toContain('"name": "AddAgenda", "description": "The AddAgenda API.", "input_parameters"');
    expect(prompt).toContain('<tool_call>[{"name": "GetUserToken", "arguments": {"username": "ana", "password": "pw1"}}]</tool_call>');
    expect(prompt).toContain("<|im_start|>user\n<tool_response>\n{'token': 'tok42'}\n</tool_response><|im_end|>");
    expect(byFile('Calculator-level-3-1').tools.map((t) => t.name)).toEqual(['ToolSearcher']);
  });

  it('reads API requests leniently, as written in expected_output', () => {
    expect(parseApiRequest("API-Request: [AddMeeting(meeting_topic='John's review', attendees='['A', 'B']', n=3, xs=[1, 2])]")).toEqual({
      name: 'AddMeeting',
      params: { meeting_topic: "John's review", attendees: "['A', 'B']", n: '3', xs: '[1, 2]' },
    });
    expect(parseApiRequest('[GetToday()]')).toEqual({ name: 'GetToday', params: {} });
    expect(() => parseApiRequest('no call here')).toThrow();
  });

  it('skips malformed samples with their line numbers', () => {
    const text = JSON.stringify([LEVEL1[4], { file: 'x', id: 1 }, { ...LEVEL1[4], expected_output: 'API-Request: [NoSuchApi(a=1)]' }], null, 1);
    const parsed = parseApiBank(text, 1);
    expect(parsed.records).toHaveLength(1);
    expect(parsed.errors.map((e) => [e.line, e.message])).toEqual([
      [9, 'record needs string file, instruction, input and expected_output'],
      [13, 'unknown API NoSuchApi'],
    ]);
  });

  it('scores Level-1 and Level-2 apart', () => {
    const samples = [...level1.records, ...level2.records];
    const completions = samples.map((s, i) => (i % 2 === 0 ? answer(s.expected.name, pyDumps(s.expected.arguments)) : 'no call'));
    expect(scoreApiBank(samples, completions)).toEqual([
      { level: 1, accuracy: 0.5, correct: 4, total: 8 },
      { level: 2, accuracy: 0.5, correct: 1, total: 2 },
    ]);
    expect(apiBankLevelOfFileName('test-data/level-2-api.json')).toBe(2);
  });
});
