//! Page-number paging (`page_no`/`page_size`, as seed 003 uses it).

/// The window of a 1-based page over `total` rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageWindow {
    pub skip: usize,
    pub take: usize,
    pub total_pages: u64,
}

/// `page_no` ≥ 1 and `page_size` ≥ 1 are the caller's to check; huge page numbers simply skip everything.
pub fn page_window(total: u64, page_no: u64, page_size: u64) -> PageWindow {
    let page_size = page_size.max(1);
    let skip = page_no.saturating_sub(1).saturating_mul(page_size);
    PageWindow {
        skip: usize::try_from(skip).unwrap_or(usize::MAX),
        take: usize::try_from(page_size).unwrap_or(usize::MAX),
        total_pages: total.div_ceil(page_size),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_and_page_counts() {
        assert_eq!(
            page_window(142, 1, 10),
            PageWindow {
                skip: 0,
                take: 10,
                total_pages: 15
            }
        );
        assert_eq!(page_window(142, 15, 10).skip, 140);
        assert_eq!(page_window(0, 1, 10).total_pages, 0);
        assert_eq!(page_window(100, 1, 100).total_pages, 1);
        assert_eq!(page_window(101, 1, 100).total_pages, 2);
        let far = page_window(5, 2_147_483_647, 100);
        assert!(far.skip > 5);
    }
}
