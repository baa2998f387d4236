/**
 * Locate the first JSON syntax error. `JSON.parse` decides validity; this only finds where and why,
 * since V8 does not always report a position. Iterative, so deep nesting cannot overflow the stack.
 */
export interface JsonSyntaxError {
  offset: number;
  message: string;
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const LITERALS = ['true', 'false', 'null'];

type Expect = 'value' | 'valueOrClose' | 'key' | 'keyOrClose' | 'colon' | 'commaOrClose' | 'end';

export function findJsonError(text: string, start = 0): JsonSyntaxError | undefined {
  const stack: string[] = [];
  let expect: Expect = 'value';
  let i = start;
  const fail = (offset: number, message: string): JsonSyntaxError => ({ offset, message });
  const afterValue = (): Expect => (stack.length > 0 ? 'commaOrClose' : 'end');
  for (;;) {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
    if (i >= text.length) return expect === 'end' ? undefined : fail(text.length, 'unexpected end of JSON');
    const c = text[i]!;
    switch (expect) {
      case 'end':
        return fail(i, 'unexpected text after the JSON value');
      case 'colon':
        if (c !== ':') return fail(i, "expected ':' after a property name");
        i++;
        expect = 'value';
        break;
      case 'commaOrClose': {
        const close = stack[stack.length - 1] === '{' ? '}' : ']';
        if (c === ',') {
          i++;
          expect = close === '}' ? 'key' : 'value';
        } else if (c === close) {
          i++;
          stack.pop();
          expect = afterValue();
        } else return fail(i, `expected ',' or '${close}'`);
        break;
      }
      case 'key':
      case 'keyOrClose':
        if (c === '}' && expect === 'keyOrClose') {
          i++;
          stack.pop();
          expect = afterValue();
        } else if (c === '"') {
          const end = stringEnd(text, i);
          if (typeof end !== 'number') return end;
          i = end;
          expect = 'colon';
        } else return fail(i, 'expected a double-quoted property name');
        break;
      default: {
        if (c === ']' && expect === 'valueOrClose') {
          i++;
          stack.pop();
          expect = afterValue();
        } else if (c === '{' || c === '[') {
          stack.push(c);
          i++;
          expect = c === '{' ? 'keyOrClose' : 'valueOrClose';
        } else if (c === '"') {
          const end = stringEnd(text, i);
          if (typeof end !== 'number') return end;
          i = end;
          expect = afterValue();
        } else {
          NUMBER.lastIndex = i;
          const literal = LITERALS.find((w) => text.startsWith(w, i));
          const length = literal ? literal.length : NUMBER.test(text) ? NUMBER.lastIndex - i : 0;
          if (length === 0) return fail(i, 'expected a JSON value');
          i += length;
          expect = afterValue();
        }
      }
    }
  }
}

/** The offset just past the string starting at `i`, or the error inside it. */
function stringEnd(text: string, i: number): number | JsonSyntaxError {
  for (let j = i + 1; j < text.length; j++) {
    const c = text.charCodeAt(j);
    if (c === 34) return j + 1;
    if (c < 0x20) return { offset: j, message: 'control character in string (escape it, e.g. \\n)' };
    if (c === 92) {
      const e = text[j + 1];
      if (e !== undefined && '"\\/bfnrt'.includes(e)) j++;
      else if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(j + 2, j + 6))) j += 5;
      else return { offset: j, message: 'invalid escape in string' };
    }
  }
  return { offset: i, message: 'unterminated string' };
}
