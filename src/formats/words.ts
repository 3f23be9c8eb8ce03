// Splitting a line into words the way iptables-save and a shell quote them: whitespace
// separates words except inside double or single quotes; a backslash escapes the next
// character inside double quotes and outside quotes.

export function splitWords(line: string): string[] {
  // Most lines quote nothing: split them the quick way.
  if (!/["'\\]/.test(line)) return line.split(/\s+/).filter((w) => w !== '');
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === quote) quote = null;
      else if (c === '\\' && quote === '"' && i + 1 < line.length) word += line[++i];
      else word += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < line.length) {
      word += line[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}
