import type { IDisposable, Terminal } from '@xterm/xterm';

/**
 * Makes the terminal answer no query whose reply could be abused. xterm.js writes its replies to terminal
 * queries into onData, which we send to the shell as if the learner typed them; a program (or a `cat` of a
 * hostile file, or container logs) could then make the terminal "type" attacker-chosen bytes (SECURITY.md
 * "Web": never echo DECRQSS, OSC 52 or window-op replies back as input). Each handler returns true, which
 * tells xterm the sequence is handled, so its built-in handler (and its reply) never runs. Normal typing,
 * colours and cursor movement are untouched.
 */
export function guardTerminal(term: Terminal): IDisposable {
  const handlers = [
    // DECRQSS (DCS $ q … ST): the reply echoes a setting string, which can carry control characters.
    term.parser.registerDcsHandler({ intermediates: '$', final: 'q' }, () => true),
    // OSC 52: clipboard read/write; a read would send the learner's clipboard to the program.
    term.parser.registerOscHandler(52, () => true),
    // CSI … t: window manipulation and reports (title, size, position); reports are replies.
    term.parser.registerCsiHandler({ final: 't' }, () => true),
  ];
  return { dispose: () => handlers.forEach((h) => h.dispose()) };
}
