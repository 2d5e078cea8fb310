//! The console the panel is printed to: its width, and whether it takes colour.

use std::io::IsTerminal;

/// The width used when neither the terminal nor `COLUMNS` gives one.
pub const DEFAULT_CONSOLE_WIDTH: usize = 80;

/// The width of standard output's console: the terminal's when standard output is one, else the
/// `COLUMNS` environment variable (a positive integer), else [`DEFAULT_CONSOLE_WIDTH`].
pub fn console_width() -> usize {
    let terminal = terminal_size::terminal_size_of(std::io::stdout()).map(|(width, _)| width.0);
    width_from(terminal, std::env::var("COLUMNS").ok().as_deref())
}

/// Whether standard output takes colour codes: it is a terminal, and `NO_COLOR` is unset or
/// empty (<https://no-color.org>).
pub fn stdout_takes_colour() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// The width from a terminal's (if any, and not 0), else from `COLUMNS`, else the default.
fn width_from(terminal: Option<u16>, columns: Option<&str>) -> usize {
    terminal
        .filter(|&width| width > 0)
        .map(usize::from)
        .or_else(|| {
            columns
                .and_then(|text| text.trim().parse::<usize>().ok())
                .filter(|&width| width > 0)
        })
        .unwrap_or(DEFAULT_CONSOLE_WIDTH)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_terminal_wins_then_columns_then_eighty() {
        assert_eq!(width_from(Some(132), Some("60")), 132);
        assert_eq!(width_from(None, Some("60")), 60);
        assert_eq!(width_from(Some(0), Some(" 60 ")), 60);
        for columns in [None, Some(""), Some("0"), Some("wide"), Some("-3")] {
            assert_eq!(width_from(None, columns), 80, "{columns:?}");
        }
    }
}
