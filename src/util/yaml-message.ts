/**
 * A YAML library's error message, for a person. A document nested thousands of levels deep overflows the
 * parser's stack, and "Maximum call stack size exceeded" (or a regex's "Stack overflow") says nothing about
 * the file.
 */
export function yamlMessage(message: string): string {
  return /Maximum call stack size exceeded|Stack overflow/.test(message) ? 'the document nests too deeply to read (collections inside collections, thousands of levels down)' : message;
}
