//! The differences between SQLite and PostgreSQL that the queries cannot avoid, in one place. Queries are
//! written once, in the common subset (`ON CONFLICT DO NOTHING` rather than `INSERT OR IGNORE`, `RETURNING`
//! rather than `last_insert_rowid()`); what remains is translated here.

use std::borrow::Cow;

/// SQLite's numbered placeholders (`?1`, `?12`) as PostgreSQL's (`$1`, `$12`). A bare `?` takes the number
/// after the largest seen so far, as SQLite numbers it. Text inside string literals (`'…'`, with `''` for a
/// quote), quoted identifiers (`"…"`) and comments (`-- …` to the end of the line) is left alone.
pub fn postgres_placeholders(sql: &str) -> Cow<'_, str> {
    if !sql.contains('?') {
        return Cow::Borrowed(sql);
    }
    let mut out = String::with_capacity(sql.len() + 8);
    let mut chars = sql.chars().peekable();
    let mut largest = 0u32;
    while let Some(c) = chars.next() {
        match c {
            '\'' | '"' => {
                out.push(c);
                // A doubled quote inside reads as the end and the start of two literals: same result.
                for inner in chars.by_ref() {
                    out.push(inner);
                    if inner == c {
                        break;
                    }
                }
            }
            '-' if chars.peek() == Some(&'-') => {
                out.push(c);
                for inner in chars.by_ref() {
                    out.push(inner);
                    if inner == '\n' {
                        break;
                    }
                }
            }
            '?' => {
                let mut digits = String::new();
                while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                    digits.push(*d);
                    chars.next();
                }
                let n = match digits.parse::<u32>() {
                    Ok(n) => n,
                    Err(_) => largest + 1,
                };
                largest = largest.max(n);
                out.push('$');
                out.push_str(&n.to_string());
            }
            _ => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::postgres_placeholders as pg;

    #[test]
    fn numbered_placeholders_become_dollars() {
        assert_eq!(
            pg("SELECT a FROM t WHERE b = ?1 AND (?2 IS NULL OR c = ?2) LIMIT ?12"),
            "SELECT a FROM t WHERE b = $1 AND ($2 IS NULL OR c = $2) LIMIT $12"
        );
        assert_eq!(pg("VALUES (?1,?2)"), "VALUES ($1,$2)");
    }

    #[test]
    fn bare_placeholders_count_on_from_the_largest() {
        assert_eq!(pg("VALUES (?, ?, ?)"), "VALUES ($1, $2, $3)");
        assert_eq!(pg("VALUES (?3, ?)"), "VALUES ($3, $4)");
    }

    #[test]
    fn literals_identifiers_and_comments_are_left_alone() {
        assert_eq!(
            pg("SELECT '?1', 'it''s ?', \"col?\" FROM t WHERE x = ?1 -- why ?2\nAND y = ?2"),
            "SELECT '?1', 'it''s ?', \"col?\" FROM t WHERE x = $1 -- why ?2\nAND y = $2"
        );
        assert_eq!(
            pg("SELECT * FROM t WHERE p LIKE ?1 ESCAPE '\\'"),
            "SELECT * FROM t WHERE p LIKE $1 ESCAPE '\\'"
        );
    }

    #[test]
    fn text_without_placeholders_is_not_copied() {
        assert!(matches!(
            pg("SELECT 1 - 2"),
            std::borrow::Cow::Borrowed("SELECT 1 - 2")
        ));
    }
}
