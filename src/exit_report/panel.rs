//! AIPerf's exit-error panel (`print_exit_errors`), drawn to any writer.

use std::io::{self, Write};
use std::ops::Range;

use lifecycle_ecs_components::ExitErrorInfo;

use super::console::{console_width, stdout_takes_colour};
use super::group::{ExitErrorGroup, group_exit_errors};
use super::wrap::wrap;

/// The narrowest the reason is wrapped to (AIPerf's minimum).
pub const REASON_MIN_WIDTH: usize = 20;

/// The columns around the reason's text: the panel's borders and padding (4) and `"   Reason: "`
/// (11). AIPerf wraps the reason to the console width minus these.
const REASON_MARGIN: usize = 15;

/// The narrowest panel drawn: a panel is as wide as the console, but never narrower than this
/// (the longest label, `"   Operation: "`, plus the borders and a few columns of text).
pub const MIN_PANEL_WIDTH: usize = 20;

/// `"   Reason: "`: the indent of the reason's later lines.
const REASON_INDENT: &str = "           ";

const BORDER_STYLE: &str = "\x1b[1;31m";
const LABEL_STYLE: &str = "\x1b[1;33m";
const VALUE_STYLE: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

/// How the exit-error panel is drawn: AIPerf's layout (a rounded box as wide as the console,
/// titled at the top left), at a given width, with or without colour.
///
/// Each group is an entry:
///
/// ```text
/// ╭─ System Exit Errors ─────────────────────────────╮
/// │ • Services: 3 services: w1, w2, w3               │
/// │    Operation: Initializing                       │
/// │    Error: HookErrors                             │
/// │    Reason: Worker.connect: refused               │
/// ╰──────────────────────────────────────────────────╯
/// ```
///
/// The reason is wrapped as AIPerf wraps it (`textwrap.fill` to the width − 15, at least 20, later
/// lines indented under the text; words are not split at hyphens). Any line longer than the panel
/// then folds at spaces, as AIPerf's console folds it (only on a console narrower than 35 columns
/// for the reason). Entries are separated by one blank line. Widths count characters.
///
/// # Example
/// ```
/// use lifecycle_ecs::exit_report::{ExitErrorPanel, group_exit_errors};
/// use lifecycle_ecs::{ErrorDetails, ExitErrorInfo};
/// let error = ExitErrorInfo {
///     error_details: ErrorDetails { code: None, error_type: None, message: "boom".into() },
///     operation: "Starting".into(),
///     service_id: Some("svc".into()),
/// };
/// let mut out = Vec::new();
/// ExitErrorPanel::new(40).print(&group_exit_errors(&[error]), &mut out).unwrap();
/// assert_eq!(
///     String::from_utf8(out).unwrap(),
///     "╭─ System Exit Errors ─────────────────╮\n\
///      │ • Service: svc                       │\n\
///      │    Operation: Starting               │\n\
///      │    Error: Unknown                    │\n\
///      │    Reason: boom                      │\n\
///      ╰──────────────────────────────────────╯\n"
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExitErrorPanel {
    /// The console's width in columns (a panel is never narrower than [`MIN_PANEL_WIDTH`]).
    pub width: usize,
    /// Whether to write ANSI colour codes (AIPerf's: a bold red border, bold yellow labels, bold
    /// values). Only for a terminal.
    pub colour: bool,
    /// The title in the top border.
    pub title: String,
}

impl ExitErrorPanel {
    /// The default title (AIPerf's, without its product name).
    pub const DEFAULT_TITLE: &'static str = "System Exit Errors";

    /// A panel for a console `width` columns wide, without colour, with the default title.
    pub fn new(width: usize) -> Self {
        Self {
            width,
            colour: false,
            title: Self::DEFAULT_TITLE.to_owned(),
        }
    }

    /// A panel for standard output: its console's width ([`console_width`](super::console_width))
    /// and colour only when it is a terminal ([`stdout_takes_colour`](super::stdout_takes_colour)).
    pub fn for_stdout() -> Self {
        Self {
            colour: stdout_takes_colour(),
            ..Self::new(console_width())
        }
    }

    /// The same panel with another title.
    pub fn with_title(mut self, title: impl Into<String>) -> Self {
        self.title = title.into();
        self
    }

    /// Draws `groups`, in order, as one panel; nothing for no groups.
    ///
    /// # Errors
    /// If `out` cannot be written.
    pub fn print(&self, groups: &[ExitErrorGroup], out: &mut impl Write) -> io::Result<()> {
        if groups.is_empty() {
            return Ok(());
        }
        let width = self.width.max(MIN_PANEL_WIDTH);
        let inner = width - 4;
        self.top_border(out, inner)?;
        for (position, group) in groups.iter().enumerate() {
            if position > 0 {
                self.field(out, inner, "", "")?;
            }
            self.field(
                out,
                inner,
                &format!("• {}: ", group.services_label()),
                &group.services_text(),
            )?;
            self.field(out, inner, "   Operation: ", &group.operation)?;
            self.field(
                out,
                inner,
                "   Error: ",
                group.error_type.as_deref().unwrap_or("Unknown"),
            )?;
            self.reason(out, inner, width, &group.message)?;
        }
        let bottom = format!("╰{}╯", "─".repeat(width - 2));
        self.styled(out, BORDER_STYLE, &bottom)?;
        writeln!(out)
    }

    /// `╭─ <title> ───…─╮`, the title cut to fit.
    fn top_border(&self, out: &mut impl Write, inner: usize) -> io::Result<()> {
        let title: String = format!(" {} ", self.title)
            .chars()
            .map(|c| if c.is_whitespace() { ' ' } else { c })
            .take(inner)
            .collect();
        let fill = "─".repeat(inner - title.chars().count());
        self.styled(out, BORDER_STYLE, &format!("╭─{title}{fill}─╮"))?;
        writeln!(out)
    }

    /// `label` then `value`, on as many rows as it takes: a new row at each newline of `value`,
    /// and folded at spaces to the panel's width.
    fn field(
        &self,
        out: &mut impl Write,
        inner: usize,
        label: &str,
        value: &str,
    ) -> io::Result<()> {
        let mut label = label;
        for part in value.split('\n') {
            let text: Vec<char> = label
                .chars()
                .chain(part.chars())
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect();
            let label_len = label.chars().count();
            for line in fold(&text, inner) {
                self.row(out, inner, &text, line, label_len)?;
            }
            label = "";
        }
        Ok(())
    }

    /// `   Reason: <message>`, wrapped as AIPerf wraps it (its lines then fold like a field's,
    /// which only a console narrower than [`REASON_MIN_WIDTH`] + 15 needs).
    fn reason(
        &self,
        out: &mut impl Write,
        inner: usize,
        width: usize,
        message: &str,
    ) -> io::Result<()> {
        let text_width = width.saturating_sub(REASON_MARGIN).max(REASON_MIN_WIDTH);
        let rest_width = text_width - REASON_INDENT.len();
        let lines = wrap(message, text_width, rest_width);
        let mut lines = lines.iter();
        let first = lines.next().map_or("", String::as_str);
        self.field(out, inner, "   Reason: ", first)?;
        lines.try_for_each(|line| self.field(out, inner, "", &format!("{REASON_INDENT}{line}")))
    }

    /// One row inside the borders, `│ <text><padding> │`: the characters `line` of `text`, whose
    /// first `label_len` characters are the label.
    fn row(
        &self,
        out: &mut impl Write,
        inner: usize,
        text: &[char],
        line: Range<usize>,
        label_len: usize,
    ) -> io::Result<()> {
        let split = label_len.clamp(line.start, line.end);
        let label: String = text[line.start..split].iter().collect();
        let value: String = text[split..line.end].iter().collect();
        self.styled(out, BORDER_STYLE, "│")?;
        out.write_all(b" ")?;
        self.styled(out, LABEL_STYLE, &label)?;
        self.styled(out, VALUE_STYLE, &value)?;
        write!(out, "{:1$} ", "", inner.saturating_sub(line.len()))?;
        self.styled(out, BORDER_STYLE, "│")?;
        writeln!(out)
    }

    fn styled(&self, out: &mut impl Write, style: &str, text: &str) -> io::Result<()> {
        if self.colour && !text.is_empty() {
            write!(out, "{style}{text}{RESET}")
        } else {
            out.write_all(text.as_bytes())
        }
    }
}

/// AIPerf's `print_exit_errors`: groups `errors` by their details
/// ([`group_exit_errors`]) and draws them as one panel; an empty list prints nothing.
///
/// # Errors
/// If `out` cannot be written.
pub fn print_exit_errors<'a>(
    errors: impl IntoIterator<Item = &'a ExitErrorInfo>,
    panel: &ExitErrorPanel,
    out: &mut impl Write,
) -> io::Result<()> {
    panel.print(&group_exit_errors(errors), out)
}

/// The rows `text` takes in a panel `width` columns wide, as AIPerf's console (rich) folds a line:
/// words (with the spaces after them) fill a row while their letters fit; a word wider than a
/// whole row starts a new one and is cut into rows; spaces past the end of a row are dropped.
fn fold(text: &[char], width: usize) -> Vec<Range<usize>> {
    let width = width.max(1);
    let mut starts = vec![0];
    let mut used = 0;
    for word in words(text) {
        let letters = word.len()
            - text[word.clone()]
                .iter()
                .rev()
                .take_while(|c| c.is_whitespace())
                .count();
        if used + letters <= width {
            used += word.len();
        } else if letters > width {
            let mut start = word.start;
            while word.end - start > width {
                if start > 0 {
                    starts.push(start);
                }
                start += width;
            }
            if start > 0 {
                starts.push(start);
            }
            used = word.end - start;
        } else {
            starts.push(word.start);
            used = word.len();
        }
    }
    starts.dedup();
    let ends = starts.iter().skip(1).copied().chain([text.len()]);
    starts
        .iter()
        .zip(ends)
        .map(|(&start, end)| {
            let mut end = end;
            while end - start > width && text[end - 1].is_whitespace() {
                end -= 1;
            }
            start..end
        })
        .collect()
}

/// The words of `text`: each a run of letters with the spaces after it (the first also with the
/// spaces before it), as rich splits a line.
fn words(text: &[char]) -> impl Iterator<Item = Range<usize>> + '_ {
    let mut position = 0;
    std::iter::from_fn(move || {
        let start = position;
        let mut end = start;
        while end < text.len() && text[end].is_whitespace() {
            end += 1;
        }
        if end == text.len() {
            return None;
        }
        while end < text.len() && !text[end].is_whitespace() {
            end += 1;
        }
        while end < text.len() && text[end].is_whitespace() {
            end += 1;
        }
        position = end;
        Some(start..end)
    })
}
