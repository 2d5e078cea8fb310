//! Greedy word wrapping, as Python's `textwrap.wrap` does it (the reason AIPerf's panel wraps).

/// Wraps `text` into lines: the first at most `first_width` characters, the others at most
/// `rest_width` (widths count `char`s; a width of 0 counts as 1).
///
/// This is Python's `textwrap.wrap` with its defaults: tabs expand to 8 columns, every ASCII
/// whitespace character becomes a space, lines break at runs of spaces (a run inside a line is
/// kept as it is) and after hyphens joining letters (`goof-ball`), a word longer than a line is
/// cut (after its last hyphen that fits, if any), and the spaces at the start of every line but
/// the first and at the end of every line are dropped. A text of only spaces gives no line.
pub(crate) fn wrap(text: &str, first_width: usize, rest_width: usize) -> Vec<String> {
    let text = normalize_whitespace(text);
    // The chunks as a stack: the next chunk is the last element.
    let mut chunks = chunks(&text);
    chunks.reverse();
    let mut lines: Vec<String> = Vec::new();
    while !chunks.is_empty() {
        let width = if lines.is_empty() {
            first_width
        } else {
            rest_width
        }
        .max(1);
        if !lines.is_empty() && chunks.last().is_some_and(|chunk| is_space(chunk)) {
            chunks.pop();
        }
        let mut line: Vec<&str> = Vec::new();
        let mut len = 0;
        while let Some(&chunk) = chunks.last() {
            let chunk_len = chunk.chars().count();
            if len + chunk_len > width {
                break;
            }
            line.push(chunk);
            len += chunk_len;
            chunks.pop();
        }
        if let Some(chunk) = chunks.last_mut()
            && chunk.chars().count() > width
        {
            // A chunk longer than a whole line: fill the rest of this line with its start, cut
            // after its last hyphen that fits (if something other than hyphens precedes it).
            let space_left = width - len;
            let mut end = space_left;
            if let Some(hyphen) = chunk
                .chars()
                .take(space_left)
                .enumerate()
                .filter(|&(_, c)| c == '-')
                .map(|(index, _)| index)
                .last()
                && hyphen > 0
                && chunk.chars().take(hyphen).any(|c| c != '-')
            {
                end = hyphen + 1;
            }
            let (head, tail) = split_at_chars(chunk, end);
            line.push(head);
            *chunk = tail;
        }
        if line.last().is_some_and(|chunk| is_space(chunk)) {
            line.pop();
        }
        if !line.is_empty() {
            lines.push(line.concat());
        }
    }
    lines
}

/// Python's `expandtabs(8)`, then every whitespace character as a space.
fn normalize_whitespace(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut column = 0;
    for c in text.chars() {
        match c {
            '\t' => {
                let spaces = 8 - column % 8;
                out.extend(std::iter::repeat_n(' ', spaces));
                column += spaces;
            }
            '\n' | '\r' => {
                out.push(' ');
                column = 0;
            }
            c if c.is_ascii_whitespace() || c == '\x0b' => {
                out.push(' ');
                column += 1;
            }
            c => {
                out.push(c);
                column += 1;
            }
        }
    }
    out
}

/// Python's `TextWrapper.wordsep_re` split: runs of spaces; `--` dashes between words; and words,
/// each cut after a hyphen that joins letters (`goof-ball` → `goof-`, `ball`).
fn chunks(text: &str) -> Vec<&str> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let text_chars = Chars(&chars);
    let byte = |i: usize| chars.get(i).map_or(text.len(), |&(offset, _)| offset);
    let mut chunks = Vec::new();
    let mut start = 0;
    while start < chars.len() {
        let end = if text_chars.is(start, |c| c == ' ') {
            text_chars.run_end(start, |c| c == ' ')
        } else if start > 0
            && text_chars.is(start - 1, is_word_punct)
            && text_chars.dashes_at(start)
        {
            text_chars.run_end(start, |c| c == '-')
        } else {
            text_chars.word_end(start)
        };
        chunks.push(&text[byte(start)..byte(end)]);
        start = end;
    }
    chunks
}

/// A text's characters, indexed (with their byte offsets).
struct Chars<'a>(&'a [(usize, char)]);

impl Chars<'_> {
    fn is(&self, index: usize, test: impl Fn(char) -> bool) -> bool {
        self.0.get(index).is_some_and(|&(_, c)| test(c))
    }

    /// The end of the run of characters passing `test` that starts at `start`.
    fn run_end(&self, start: usize, test: impl Fn(char) -> bool) -> usize {
        let mut end = start;
        while self.is(end, &test) {
            end += 1;
        }
        end
    }

    /// `-{2,}(?=\w)` at `index`: a dash of two or more hyphens, then a word character.
    fn dashes_at(&self, index: usize) -> bool {
        let end = self.run_end(index, |c| c == '-');
        end - index >= 2 && self.is(end, is_word)
    }

    /// The end of the word chunk starting at `start` (the lazy `\S+?` of `wordsep_re`, ended by
    /// a joining hyphen, which it keeps, by a space or the end, or before a `--` dash).
    fn word_end(&self, start: usize) -> usize {
        let mut end = start + 1;
        loop {
            if self.is(end, |c| c == '-') && self.joins_letters(end) {
                return end + 1;
            }
            if end >= self.0.len() || self.is(end, |c| c == ' ') {
                return end;
            }
            if self.is(end - 1, is_word_punct) && self.dashes_at(end) {
                return end;
            }
            end += 1;
        }
    }

    /// Whether the hyphen at `index` may end a chunk: after two letters (or `letter-letter`),
    /// and before `letter letter` or `letter-letter`.
    fn joins_letters(&self, index: usize) -> bool {
        let before = index >= 2
            && self.is(index - 1, is_letter)
            && (self.is(index - 2, is_letter)
                || (index >= 3
                    && self.is(index - 2, |c| c == '-')
                    && self.is(index - 3, is_letter)));
        before
            && self.is(index + 1, is_letter)
            && (self.is(index + 2, is_letter)
                || (self.is(index + 2, |c| c == '-') && self.is(index + 3, is_letter)))
    }
}

/// Python's `\w`.
fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Python's `[^\d\W]`: a word character that is not a digit.
fn is_letter(c: char) -> bool {
    is_word(c) && !c.is_ascii_digit()
}

/// `TextWrapper`'s `word_punct`.
fn is_word_punct(c: char) -> bool {
    is_word(c) || matches!(c, '!' | '"' | '\'' | '&' | '.' | ',' | '?')
}

fn is_space(chunk: &str) -> bool {
    chunk.chars().all(char::is_whitespace)
}

/// `text` split after its first `count` characters.
fn split_at_chars(text: &str, count: usize) -> (&str, &str) {
    let index = text
        .char_indices()
        .nth(count)
        .map_or(text.len(), |(index, _)| index);
    text.split_at(index)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_greedily_and_drops_spaces_at_breaks() {
        // textwrap.wrap("the quick brown fox jumps", width=10)
        assert_eq!(
            wrap("the quick brown fox jumps", 10, 10),
            ["the quick", "brown fox", "jumps"]
        );
        // Runs of spaces inside a line are kept; leading ones on the first line too.
        assert_eq!(wrap("  a  b", 10, 10), ["  a  b"]);
        assert_eq!(wrap("a\nb\tc", 20, 20), ["a b       c"]);
    }

    #[test]
    fn breaks_after_hyphens_that_join_letters() {
        // textwrap.wrap("Hello there -- you goof-ball, use the -b option!", width=w)
        assert_eq!(
            wrap("Hello there -- you goof-ball, use the -b option!", 12, 12),
            [
                "Hello there",
                "-- you goof-",
                "ball, use",
                "the -b",
                "option!"
            ]
        );
        // textwrap.wrap("see records-manager-2", width=15)
        assert_eq!(
            wrap("see records-manager-2", 15, 15),
            ["see records-", "manager-2"]
        );
        // textwrap.wrap("x abcde-fghijkl", width=8)
        assert_eq!(wrap("x abcde-fghijkl", 8, 8), ["x abcde-", "fghijkl"]);
        // textwrap.wrap("abc-defghijklmno", width=6)
        assert_eq!(wrap("abc-defghijklmno", 6, 6), ["abc-de", "fghijk", "lmno"]);
    }

    #[test]
    fn cuts_words_longer_than_a_line() {
        // textwrap.wrap("ab abcdefghijkl", width=5) == ['ab ab', 'cdefg', 'hijkl']
        assert_eq!(wrap("ab abcdefghijkl", 5, 5), ["ab ab", "cdefg", "hijkl"]);
        assert_eq!(wrap("ééééé", 2, 2), ["éé", "éé", "é"]);
    }

    #[test]
    fn later_lines_have_their_own_width() {
        assert_eq!(wrap("aaa bbb ccc ddd", 7, 3), ["aaa bbb", "ccc", "ddd"]);
    }

    #[test]
    fn blank_text_gives_no_line() {
        assert!(wrap("", 10, 10).is_empty());
        assert!(wrap("   ", 10, 10).is_empty());
        assert_eq!(wrap("x", 0, 0), ["x"]);
    }
}
