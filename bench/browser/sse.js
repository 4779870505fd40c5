// What the page reads streams with, apart from the DOM so that node can test it
// (tests/browser/sse.test.mjs): the content rule (METRICS.md; core's delta_text.cpp) and an SSE
// parser (the WHATWG event-stream rules, as the OpenAI JS SDK's decoder applies them).

// ---- The content rule (METRICS.md; core's delta_text.cpp), per choice -------------------------

const str = (v) => (typeof v === 'string' ? v : '');

// Chat: content, then refusal, then each tool call's arguments (a delta and a message alike).
function chatMessageText(m) {
  if (!m || typeof m !== 'object') return '';
  let t = str(m.content) + str(m.refusal);
  if (Array.isArray(m.tool_calls))
    for (const call of m.tool_calls) if (call && typeof call === 'object') t += str(call.function?.arguments);
  return t;
}

const choiceIndex = (c, position) => (Number.isInteger(c.index) ? c.index : position);

const RESPONSES_DELTA_TYPES = new Set([
  'response.output_text.delta',
  'response.refusal.delta',
  'response.function_call_arguments.delta',
  'response.reasoning_summary_text.delta',
]);

/** The new user-visible text one event payload carries: [{choice, text}], non-empty texts. */
export function deltaTexts(api, p) {
  const out = [];
  if (!p || typeof p !== 'object' || Array.isArray(p)) return out;
  if (api === 'responses') {
    if (RESPONSES_DELTA_TYPES.has(p.type) && str(p.delta) !== '') out.push({ choice: 0, text: p.delta });
    return out;
  }
  if (!Array.isArray(p.choices)) return out;
  p.choices.forEach((c, i) => {
    if (!c || typeof c !== 'object' || !c.delta || typeof c.delta !== 'object') return;
    const text = chatMessageText(c.delta);
    if (text !== '') out.push({ choice: choiceIndex(c, i), text });
  });
  return out;
}

/** The whole text per choice of a completion object (stream:false, a snapshot, a final poll):
 *  a Map choice → text, or null when the body is not a completion object. */
export function nonstreamTranscript(api, body) {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return null;
  const out = new Map();
  if (api !== 'responses') {
    if (!Array.isArray(body.choices)) return null;
    body.choices.forEach((c, i) => {
      if (!c || typeof c !== 'object' || !c.message || typeof c.message !== 'object') return;
      const text = chatMessageText(c.message);
      if (text !== '') out.set(choiceIndex(c, i), (out.get(choiceIndex(c, i)) ?? '') + text);
    });
    return out;
  }
  let obj = body;
  if (!('output' in obj) && obj.response && typeof obj.response === 'object') obj = obj.response;
  if (!Array.isArray(obj.output)) return null;
  let text = '';
  for (const item of obj.output) {
    if (!item || typeof item !== 'object') continue;
    if (item.type === 'message' && Array.isArray(item.content)) {
      for (const part of item.content) {
        if (!part || typeof part !== 'object') continue;
        if (part.type === 'output_text') text += str(part.text);
        if (part.type === 'refusal') text += str(part.refusal);
      }
    } else if (item.type === 'function_call') {
      text += str(item.arguments);
    } else if (item.type === 'reasoning' && Array.isArray(item.summary)) {
      for (const part of item.summary) if (part && typeof part === 'object') text += str(part.text);
    }
  }
  if (text !== '') out.set(0, text);
  return out;
}

/** The Responses API's streaming event types (its API reference), for EventSource listeners. */
export const RESPONSES_EVENT_TYPES = [
  'response.created', 'response.queued', 'response.in_progress', 'response.completed',
  'response.failed', 'response.incomplete', 'response.output_item.added',
  'response.output_item.done', 'response.content_part.added', 'response.content_part.done',
  'response.output_text.delta', 'response.output_text.done', 'response.output_text.annotation.added',
  'response.refusal.delta', 'response.refusal.done', 'response.function_call_arguments.delta',
  'response.function_call_arguments.done', 'response.reasoning_summary_part.added',
  'response.reasoning_summary_part.done', 'response.reasoning_summary_text.delta',
  'response.reasoning_summary_text.done', 'response.reasoning_text.delta',
  'response.reasoning_text.done', 'response.file_search_call.in_progress',
  'response.file_search_call.searching', 'response.file_search_call.completed',
  'response.web_search_call.in_progress', 'response.web_search_call.searching',
  'response.web_search_call.completed', 'response.code_interpreter_call.in_progress',
  'response.code_interpreter_call.interpreting', 'response.code_interpreter_call.completed',
  'response.code_interpreter_call_code.delta', 'response.code_interpreter_call_code.done',
  'response.image_generation_call.in_progress', 'response.image_generation_call.generating',
  'response.image_generation_call.partial_image', 'response.image_generation_call.completed',
  'response.mcp_call.in_progress', 'response.mcp_call.completed', 'response.mcp_call.failed',
  'response.mcp_call_arguments.delta', 'response.mcp_call_arguments.done',
  'response.mcp_list_tools.in_progress', 'response.mcp_list_tools.completed',
  'response.mcp_list_tools.failed', 'response.custom_tool_call_input.delta',
  'response.custom_tool_call_input.done', 'error',
];

/** A turn (ws frame, EventSource message) that ends its stream: chat's [DONE] or error chunk,
 *  the Responses API's response.completed / .failed / .incomplete or error event. */
export function endsTurn(api, data, obj) {
  if (data === '[DONE]') return true;
  if (!obj || typeof obj !== 'object') return false;
  if (api === 'responses')
    return ['response.completed', 'response.failed', 'response.incomplete', 'error'].includes(obj.type);
  return 'error' in obj;
}

// ---- SSE (the WHATWG event-stream rules, as the OpenAI JS SDK's decoder applies them) --------

const LINE_END = /[\r\n]/g;

export class SseParser {
  constructor(onEvent) {
    this.onEvent = onEvent;
    this.partial = ''; // a line not yet ended
    this.afterCr = false; // the last chunk ended in CR: a LF starting the next one is its pair
    this.data = [];
    this.event = null;
    this.id = null;
  }

  feed(text) {
    let i = 0;
    if (this.afterCr && text.startsWith('\n')) i = 1;
    this.afterCr = false;
    for (;;) {
      LINE_END.lastIndex = i;
      const m = LINE_END.exec(text);
      if (!m) {
        this.partial += text.slice(i);
        return;
      }
      const line = this.partial + text.slice(i, m.index);
      this.partial = '';
      i = m.index + 1;
      if (text[m.index] === '\r') {
        if (i === text.length) this.afterCr = true;
        else if (text[i] === '\n') ++i;
      }
      this.line(line);
    }
  }

  line(l) {
    if (l === '') {
      if (this.data.length > 0) this.onEvent({ event: this.event, data: this.data.join('\n'), id: this.id });
      this.data = [];
      this.event = null;
      return;
    }
    if (l[0] === ':') return; // a comment (a heartbeat)
    const colon = l.indexOf(':');
    const field = colon < 0 ? l : l.slice(0, colon);
    let value = colon < 0 ? '' : l.slice(colon + 1);
    if (value[0] === ' ') value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.event = value;
    else if (field === 'id' && !value.includes('\0')) this.id = value;
  }

  /** Bytes of an event not yet complete are held. */
  pending() {
    return this.partial !== '' || this.data.length > 0 || this.event !== null;
  }
}
