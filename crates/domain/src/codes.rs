//! Hierarchical codes and what their length says. A division code (国家统计用区划代码) has
//! 2 digits for the province, 2 for the city, 2 for the district or county (`…00` is the
//! city itself), 3 for the street or township and 3 for the community or village; a
//! category code (事项分类) has 2 digits a level, three levels deep. Every rule that reads a
//! level from a code's length is here, once.

/// A division code, read by its length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DivisionCode<'a>(&'a str);

impl<'a> DivisionCode<'a> {
    /// Characters of a district's or county's code.
    pub const DISTRICT: usize = 6;
    /// Characters of a street's or township's code.
    pub const STREET: usize = 9;
    /// Characters of a community's or village's code.
    pub const COMMUNITY: usize = 12;

    pub fn new(code: &'a str) -> DivisionCode<'a> {
        DivisionCode(code)
    }

    pub fn as_str(self) -> &'a str {
        self.0
    }

    /// The code of the ancestor (or of this division) whose code is `len` characters long.
    fn prefix(self, len: usize) -> Option<&'a str> {
        self.0.get(..len)
    }

    /// Whether this is a district's or county's code (not the city's `…00`).
    pub fn is_district(self) -> bool {
        self.0.len() == Self::DISTRICT && !self.0.ends_with("00")
    }

    /// The district or county the division lies in or is (none for the city itself).
    pub fn district(self) -> Option<&'a str> {
        self.prefix(Self::DISTRICT).filter(|d| !d.ends_with("00"))
    }

    /// The street or township the division lies in or is.
    pub fn street(self) -> Option<&'a str> {
        self.prefix(Self::STREET)
    }

    /// The codes of the district, street and community it lies in or is, outermost first.
    pub fn path(self) -> impl Iterator<Item = &'a str> {
        [Self::DISTRICT, Self::STREET, Self::COMMUNITY]
            .into_iter()
            .filter_map(move |n| self.prefix(n))
    }
}

/// A category code, read by its length: two digits a level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CategoryCode<'a>(&'a str);

impl<'a> CategoryCode<'a> {
    /// Digits of each level.
    pub const DIGITS_PER_LEVEL: usize = 2;
    /// The deepest level (a leaf: 小类).
    pub const LEAF_LEVEL: u8 = 3;

    pub fn new(code: &'a str) -> CategoryCode<'a> {
        CategoryCode(code)
    }

    pub fn as_str(self) -> &'a str {
        self.0
    }

    /// Whether the text is a category code: 2, 4 or 6 digits.
    pub fn is_valid(self) -> bool {
        !self.0.is_empty()
            && self.0.len().is_multiple_of(Self::DIGITS_PER_LEVEL)
            && self.0.len() <= Self::DIGITS_PER_LEVEL * Self::LEAF_LEVEL as usize
            && self.0.chars().all(|c| c.is_ascii_digit())
    }

    /// 1 for a top-level category, 2 for the level below, 3 for a leaf.
    pub fn level(self) -> u8 {
        (self.0.len() / Self::DIGITS_PER_LEVEL) as u8
    }

    /// Whether this is a leaf (the finest level).
    pub fn is_leaf(self) -> bool {
        self.level() >= Self::LEAF_LEVEL
    }

    /// The parent category's code (none at the top level).
    pub fn parent(self) -> Option<&'a str> {
        (self.level() > 1).then(|| &self.0[..self.0.len() - Self::DIGITS_PER_LEVEL])
    }

    /// The code of the ancestor (or of this category) at `level`, if the code is that deep.
    pub fn at_level(self, level: u8) -> Option<&'a str> {
        self.0.get(..level as usize * Self::DIGITS_PER_LEVEL)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn divisions_by_their_codes() {
        let community = DivisionCode::new("630102001001");
        assert_eq!(community.district(), Some("630102"));
        assert_eq!(community.street(), Some("630102001"));
        assert_eq!(
            community.path().collect::<Vec<_>>(),
            ["630102", "630102001", "630102001001"]
        );
        // The city itself is no district.
        assert_eq!(DivisionCode::new("630100").district(), None);
        assert!(!DivisionCode::new("630100").is_district());
        assert!(DivisionCode::new("630102").is_district());
        assert!(!DivisionCode::new("630102001").is_district());
        assert_eq!(DivisionCode::new("6301").street(), None);
        assert_eq!(DivisionCode::new("630102").path().count(), 1);
    }

    #[test]
    fn categories_by_their_codes() {
        let leaf = CategoryCode::new("010103");
        assert_eq!(leaf.level(), 3);
        assert!(leaf.is_leaf());
        assert_eq!(leaf.parent(), Some("0101"));
        assert_eq!(leaf.at_level(1), Some("01"));
        assert_eq!(leaf.at_level(2), Some("0101"));
        assert_eq!(CategoryCode::new("01").parent(), None);
        assert_eq!(CategoryCode::new("01").at_level(2), None);
        assert!(CategoryCode::new("0101").is_valid());
        for bad in ["", "1", "010", "01010101", "0a"] {
            assert!(!CategoryCode::new(bad).is_valid(), "{bad}");
        }
    }
}
