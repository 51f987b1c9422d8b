//! Address → administrative division: free Chinese addresses as citizens say them
//! (`城东区八一中路青发小区7号楼3单元`, `西关大街街道贾小社区42号楼`, `湟中县鲁沙尔镇`) resolved to
//! the district, street or community they lie in, with a confidence — or, where the words
//! fit several places equally (two 贾小 exist), to candidates and no guess.
//!
//! The index is built from the official divisions (names as published, with their
//! committee suffixes) and a gazetteer of roads, residential compounds and landmarks that
//! the deployment keeps. Matching is greedy longest-first over the compacted text; each
//! matched span then votes for the places on its chain (the place and its ancestors), and
//! spans that name a place elsewhere count against a candidate.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::normalize::compact;

/// Administrative level of a division.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    City,
    District,
    Street,
    Community,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::City => "city",
            Level::District => "district",
            Level::Street => "street",
            Level::Community => "community",
        }
    }

    pub fn parse(s: &str) -> Option<Level> {
        Some(match s {
            "city" => Level::City,
            "district" => Level::District,
            "street" => Level::Street,
            "community" => Level::Community,
            _ => return None,
        })
    }
}

/// One official division, as the store keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Place {
    pub code: String,
    pub name: String,
    pub level: Level,
    pub parent_code: Option<String>,
}

/// What a gazetteer entry names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    /// A road or street (路, 街, 巷): often crosses several communities, so usually mapped
    /// to a street office or a district.
    Road,
    /// A residential compound (小区, 花园, 家属院).
    Compound,
    /// A landmark: a station, school, hospital, market, park.
    Landmark,
}

impl EntryKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::Road => "road",
            EntryKind::Compound => "compound",
            EntryKind::Landmark => "landmark",
        }
    }

    pub fn parse(s: &str) -> Option<EntryKind> {
        Some(match s {
            "road" => EntryKind::Road,
            "compound" => EntryKind::Compound,
            "landmark" => EntryKind::Landmark,
            _ => return None,
        })
    }

    /// How much a match of such a name says about the place it maps to.
    fn quality(self) -> f32 {
        match self {
            EntryKind::Compound => 0.9,
            EntryKind::Landmark => 0.85,
            EntryKind::Road => 0.75,
        }
    }
}

/// A name the deployment maps to a division: `青发小区` → a community's code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct GazetteerEntry {
    pub name: String,
    pub kind: EntryKind,
    pub division_code: String,
}

/// A division the address may lie in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Resolved {
    pub code: String,
    /// The official name (`贾小社区居民委员会`).
    pub name: String,
    pub level: Level,
    /// The names from the district down (`城西区 西关大街街道 贾小社区居民委员会`).
    pub path: String,
    /// 0..1: how sure the words make this place.
    pub confidence: f32,
    /// The words of the address that pointed here (on this place's chain).
    pub matched: Vec<String>,
}

/// The outcome of resolving an address.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Resolution {
    /// The place, when the words point to one; `None` when they name nothing known or fit
    /// several places equally.
    pub best: Option<Resolved>,
    /// Other places the words could mean (the best one and its ancestors left out), most
    /// likely first.
    pub candidates: Vec<Resolved>,
}

/// Why a name points to a place, and how strongly.
#[derive(Debug, Clone, Copy)]
struct Alias {
    place: usize,
    quality: f32,
}

/// The longest name the index holds, in characters; longer runs are never looked up.
const MAX_ALIAS_CHARS: usize = 16;
/// Candidates this close to the best one make the address ambiguous.
const AMBIGUITY_MARGIN: f32 = 0.1;
/// A place more specific than the best one is taken when at least this sure.
const DESCEND_AT: f32 = 0.5;
/// Names said without their suffix point this strongly at most.
const BARE_QUALITY: f32 = 0.6;
/// At most this many candidates are returned.
const MAX_CANDIDATES: usize = 5;

/// Names → divisions, built once from the divisions and the gazetteer.
#[derive(Debug, Clone, Default)]
pub struct AddressIndex {
    places: Vec<Place>,
    parent: Vec<Option<usize>>,
    by_code: HashMap<String, usize>,
    aliases: HashMap<String, Vec<Alias>>,
    /// Names of the city itself (`西宁市`, `西宁`): matched and passed over.
    city_names: Vec<String>,
}

impl AddressIndex {
    /// Builds the index. Gazetteer entries naming an unknown division are skipped (the
    /// store refuses them; a division deleted later must not break resolution).
    pub fn new(places: Vec<Place>, gazetteer: &[GazetteerEntry]) -> AddressIndex {
        let by_code: HashMap<String, usize> = places
            .iter()
            .enumerate()
            .map(|(i, p)| (p.code.clone(), i))
            .collect();
        let parent = places
            .iter()
            .map(|p| p.parent_code.as_ref().and_then(|c| by_code.get(c).copied()))
            .collect();
        let mut index = AddressIndex {
            places,
            parent,
            by_code,
            aliases: HashMap::new(),
            city_names: Vec::new(),
        };
        for i in 0..index.places.len() {
            let place = index.places[i].clone();
            if place.level == Level::City {
                let short = place.name.trim_end_matches('市').to_string();
                index.city_names.push(place.name.clone());
                if short.chars().count() >= 2 {
                    index.city_names.push(short);
                }
                continue;
            }
            for (name, quality) in names_of(&place) {
                index.add(name, i, quality);
            }
        }
        index
            .city_names
            .sort_by_key(|n| std::cmp::Reverse(n.chars().count()));
        for entry in gazetteer {
            let Some(&place) = index.by_code.get(&entry.division_code) else {
                continue;
            };
            let name = compact(&entry.name);
            if name.chars().count() >= 2 {
                index.add(name, place, entry.kind.quality());
            }
        }
        index
    }

    fn add(&mut self, name: String, place: usize, quality: f32) {
        if name.chars().count() > MAX_ALIAS_CHARS {
            return;
        }
        let list = self.aliases.entry(name).or_default();
        match list.iter_mut().find(|a| a.place == place) {
            Some(a) => a.quality = a.quality.max(quality),
            None => list.push(Alias { place, quality }),
        }
    }

    /// The division with this code.
    pub fn place(&self, code: &str) -> Option<&Place> {
        self.by_code.get(code).map(|&i| &self.places[i])
    }

    /// The number of names the index knows (official names, their variants, gazetteer).
    pub fn names(&self) -> usize {
        self.aliases.len()
    }

    /// Resolves a free address.
    pub fn resolve(&self, address: &str) -> Resolution {
        let text = strip_city(&compact(address), &self.city_names);
        let spans = self.spans(&text);
        if spans.is_empty() {
            return Resolution::default();
        }
        // Every place some span names is a candidate; so are the ancestors (a
        // community's words also say which district it is in).
        let mut scored: Vec<(usize, f32, Vec<String>)> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for span in &spans {
            for alias in &span.1 {
                for p in self.chain(alias.place) {
                    if seen.insert(p) {
                        let (confidence, matched) = self.score(p, &spans);
                        scored.push((p, confidence, matched));
                    }
                }
            }
        }
        scored.retain(|s| s.1 > 0.0 && self.places[s.0].level != Level::City);
        scored.sort_by(|a, b| {
            b.1.total_cmp(&a.1)
                .then(self.places[b.0].level.cmp(&self.places[a.0].level))
                .then(self.places[a.0].code.cmp(&self.places[b.0].code))
        });
        let Some(top) = scored.first() else {
            return Resolution::default();
        };
        // From the surest place, down to a more specific one the words also support.
        let mut best = top.0;
        loop {
            let deeper = scored.iter().find(|s| {
                s.0 != best && s.1 >= DESCEND_AT && self.chain(s.0).contains(&best) && {
                    // Descend only where no equally sure sibling splits the way.
                    let rivals = scored.iter().filter(|o| {
                        o.0 != s.0
                            && self.places[o.0].level == self.places[s.0].level
                            && self.chain(o.0).contains(&best)
                            && o.1 + AMBIGUITY_MARGIN > s.1
                    });
                    rivals.count() == 0
                }
            });
            match deeper {
                Some(d) => best = d.0,
                None => break,
            }
        }
        let best_conf = scored
            .iter()
            .find(|s| s.0 == best)
            .map(|s| s.1)
            .unwrap_or(0.0);
        let best_chain = self.chain(best);
        // Rivals: as sure, and neither above nor below the best.
        let rivals: Vec<usize> = scored
            .iter()
            .filter(|s| {
                s.0 != best
                    && s.1 + AMBIGUITY_MARGIN > best_conf
                    && !best_chain.contains(&s.0)
                    && !self.chain(s.0).contains(&best)
            })
            .map(|s| s.0)
            .collect();
        let resolved = |p: usize| {
            let s = scored.iter().find(|s| s.0 == p).expect("scored place");
            self.resolved(p, s.1, s.2.clone())
        };
        let best = if rivals.is_empty() {
            Some(best)
        } else {
            // Several places fit as well: keep what they share below the city, if that
            // is itself supported by the words; otherwise no guess.
            let mut common: Vec<usize> = best_chain.clone();
            for r in &rivals {
                let chain = self.chain(*r);
                common.retain(|c| chain.contains(c));
            }
            common
                .into_iter()
                .find(|c| self.places[*c].level != Level::City && scored.iter().any(|s| s.0 == *c))
        };
        let excluded: Vec<usize> = best.map(|b| self.chain(b)).unwrap_or_default();
        let candidates = scored
            .iter()
            .filter(|s| !excluded.contains(&s.0) && s.1 >= 0.1)
            .filter(|s| {
                // A candidate whose more specific place is listed says nothing new.
                best.is_some()
                    || !scored
                        .iter()
                        .any(|o| o.0 != s.0 && o.1 >= s.1 && self.chain(o.0).contains(&s.0))
            })
            .take(MAX_CANDIDATES)
            .map(|s| resolved(s.0))
            .collect();
        Resolution {
            best: best.map(resolved),
            candidates,
        }
    }

    /// The place and its ancestors, the place first.
    fn chain(&self, place: usize) -> Vec<usize> {
        let mut out = vec![place];
        let mut at = place;
        while let Some(p) = self.parent[at] {
            if out.contains(&p) {
                break;
            }
            out.push(p);
            at = p;
        }
        out
    }

    /// How sure the spans make a place: its own naming counts fully, a named ancestor
    /// half as much (it narrows the search, it does not name the place), a named place
    /// below it nothing against it, and a span that names only places elsewhere counts
    /// against it.
    fn score(&self, place: usize, spans: &[(String, Vec<Alias>)]) -> (f32, Vec<String>) {
        let chain = self.chain(place);
        let mut own: f32 = 0.0;
        let mut doubt: f32 = 1.0;
        let mut against: f32 = 0.0;
        let mut matched = Vec::new();
        for (words, aliases) in spans {
            let mut here: Option<f32> = None;
            let mut below = false;
            for a in aliases {
                if a.place == place {
                    own = own.max(a.quality);
                    here = Some(here.unwrap_or(0.0).max(a.quality));
                } else if chain.contains(&a.place) {
                    let q = a.quality * 0.5;
                    here = Some(here.unwrap_or(0.0).max(q));
                    doubt *= 1.0 - q;
                } else if self.chain(a.place).contains(&place) {
                    below = true;
                }
            }
            match here {
                Some(_) => matched.push(words.clone()),
                None if below => matched.push(words.clone()),
                None => {
                    // Named elsewhere: the stronger that naming, the more it counts.
                    let q = aliases.iter().map(|a| a.quality).fold(0.0, f32::max);
                    against = against.max(q);
                }
            }
        }
        // A place named only through what lies below it takes the surest of those, a
        // little discounted: `贾小社区` says 城西区 as surely as it says the community.
        if own == 0.0 {
            own = spans
                .iter()
                .flat_map(|(_, aliases)| aliases)
                .filter(|a| a.place != place && self.chain(a.place).contains(&place))
                .map(|a| {
                    // Several places below with the same words: only as sure as the share.
                    a.quality * 0.95
                })
                .fold(0.0, f32::max);
            // ... unless the words below also fit places elsewhere.
            for (_, aliases) in spans {
                let inside = aliases
                    .iter()
                    .filter(|a| self.chain(a.place).contains(&place))
                    .count();
                if inside > 0 && inside < aliases.len() {
                    own *= inside as f32 / aliases.len() as f32;
                }
            }
        }
        let sure = 1.0 - (1.0 - own) * doubt;
        let confidence = (sure - 0.6 * against).clamp(0.0, 1.0);
        ((confidence * 1000.0).round() / 1000.0, matched)
    }

    /// Greedy longest-first matching of known names over the text.
    fn spans(&self, text: &str) -> Vec<(String, Vec<Alias>)> {
        let chars: Vec<char> = text.chars().collect();
        let mut out = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            let longest = (2..=MAX_ALIAS_CHARS.min(chars.len() - i))
                .rev()
                .find_map(|len| {
                    let word: String = chars[i..i + len].iter().collect();
                    self.aliases.get(&word).map(|a| (word, a.clone(), len))
                });
            // A bare name (no 街道/镇/社区/村 said) that runs on into a road or another
            // place's suffix is part of that name: 朝阳东路, 朝阳区 are not 朝阳街道.
            let longest = longest.filter(|(_, aliases, len)| {
                let bare = aliases.iter().all(|a| a.quality <= BARE_QUALITY);
                !(bare && runs_on(&chars[i + len..]))
            });
            match longest {
                Some((word, aliases, len)) => {
                    out.push((word, aliases));
                    i += len;
                }
                None => i += 1,
            }
        }
        out
    }

    fn resolved(&self, place: usize, confidence: f32, matched: Vec<String>) -> Resolved {
        let p = &self.places[place];
        let mut path: Vec<&str> = self
            .chain(place)
            .into_iter()
            .filter(|&c| self.places[c].level != Level::City)
            .map(|c| self.places[c].name.as_str())
            .collect();
        path.reverse();
        Resolved {
            code: p.code.clone(),
            name: p.name.clone(),
            level: p.level,
            path: path.join(" "),
            confidence,
            matched,
        }
    }
}

/// Does the text go on as the rest of a road's or a place's name (`东路`, `大街`, `区`)?
fn runs_on(rest: &[char]) -> bool {
    let first = rest.first().copied();
    let second = rest.get(1).copied();
    match first {
        Some('路' | '街' | '巷' | '道' | '区' | '县' | '市' | '省' | '州' | '大') => true,
        Some('东' | '西' | '南' | '北' | '中') => {
            matches!(second, Some('路' | '街' | '巷' | '大'))
        }
        _ => false,
    }
}

/// Committee suffixes, longest first, and the marker a citizen says instead.
const COMMUNITY_SUFFIXES: &[(&str, &str)] = &[
    ("社区居民委员会", "社区"),
    ("社区居委会", "社区"),
    ("居民委员会", "社区"),
    ("村民委员会", "村"),
    ("居委会", "社区"),
    ("村委会", "村"),
    ("社区", "社区"),
];

/// Street-level suffixes, longest first.
const STREET_SUFFIXES: &[&str] = &["街道办事处", "街道", "镇", "乡", "工业园", "产业园"];

/// The names a division goes by, with how strongly each points to it.
fn names_of(place: &Place) -> Vec<(String, f32)> {
    let full = compact(&place.name);
    let mut out = vec![(full.clone(), 1.0)];
    let mut push = |name: String, q: f32| {
        if name.chars().count() >= 2 {
            out.push((name, q));
        }
    };
    match place.level {
        Level::City => {}
        Level::District => {
            // 大通回族土族自治县 → 大通县, 大通; 城东区 → 城东; 湟中区 → 湟中县 (its name
            // until 2019), 湟中.
            let (base, suffix) = if let Some(b) = full.strip_suffix("自治县") {
                (strip_nationalities(b), "县")
            } else if let Some(b) = full.strip_suffix('区') {
                (b.to_string(), "区")
            } else if let Some(b) = full.strip_suffix('县') {
                (b.to_string(), "县")
            } else {
                (full.clone(), "")
            };
            if !suffix.is_empty() {
                push(format!("{base}{suffix}"), 0.97);
                let other = if suffix == "区" { "县" } else { "区" };
                push(format!("{base}{other}"), 0.9);
                push(base, 0.8);
            }
        }
        Level::Street => {
            for suffix in STREET_SUFFIXES {
                if let Some(b) = full.strip_suffix(suffix) {
                    let base = strip_nationalities(b);
                    push(format!("{base}{suffix}"), 0.97);
                    if *suffix == "街道" {
                        push(format!("{base}街道办事处"), 1.0);
                        push(format!("{base}街道办"), 0.97);
                    }
                    if *suffix == "乡" || *suffix == "镇" {
                        push(format!("{base}乡"), 0.85);
                        push(format!("{base}镇"), 0.85);
                    }
                    push(base, 0.6);
                    break;
                }
            }
        }
        Level::Community => {
            for (suffix, marker) in COMMUNITY_SUFFIXES {
                if let Some(b) = full.strip_suffix(suffix) {
                    // 友谊村村民委员会 → 友谊村 / 友谊; 贾小村委会 → 贾小村 / 贾小.
                    let base = if *marker == "村" {
                        b.strip_suffix('村').unwrap_or(b)
                    } else {
                        b
                    };
                    push(format!("{base}{marker}"), 0.95);
                    if *marker == "社区" {
                        push(format!("{base}居委会"), 0.95);
                    } else {
                        push(format!("{base}村委会"), 0.95);
                        push(format!("{base}村村委会"), 0.95);
                    }
                    push(base.to_string(), 0.4);
                    break;
                }
            }
        }
    }
    out
}

/// 群加藏族 → 群加; 大通回族土族 → 大通: the nationalities in an autonomous unit's name
/// are left out when people say it.
fn strip_nationalities(name: &str) -> String {
    let mut base = name.to_string();
    while let Some(pos) = base.rfind('族') {
        // One nationality is two characters, the second being 族 (回族, 藏族, 土族).
        let chars: Vec<char> = base[..pos].chars().collect();
        if chars.len() < 3 {
            break;
        }
        base = chars[..chars.len() - 1].iter().collect();
    }
    base
}

/// Leaves out the province and the city at the start of an address, the city also when
/// mistyped by one character (`西宁氏`, `西凝市`, `细宁市`).
fn strip_city(text: &str, city_names: &[String]) -> String {
    let mut rest = text;
    for province in ["青海省", "青海", "清海省"] {
        if let Some(r) = rest.strip_prefix(province) {
            rest = r;
            break;
        }
    }
    // One character off a three-character city name ending in 市 (or 氏/是, the usual
    // slips of an input method).
    let chars: Vec<char> = rest.chars().collect();
    for name in city_names {
        let want: Vec<char> = name.chars().collect();
        if want.len() != 3 || want[2] != '市' || chars.len() < 3 {
            continue;
        }
        let differs = (0..2).filter(|&k| chars[k] != want[k]).count();
        if differs == 1
            && matches!(chars[2], '市' | '氏' | '是')
            && crate::normalize::is_han(chars[0])
        {
            return chars[3..].iter().collect();
        }
        if differs == 0 && matches!(chars[2], '氏' | '是') {
            return chars[3..].iter().collect();
        }
    }
    for name in city_names {
        if let Some(r) = rest.strip_prefix(name.as_str()) {
            return r.strip_prefix('市').unwrap_or(r).to_string();
        }
    }
    rest.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn place(code: &str, name: &str, level: Level, parent: &str) -> Place {
        Place {
            code: code.into(),
            name: name.into(),
            level,
            parent_code: Some(parent.into()),
        }
    }

    fn small() -> AddressIndex {
        AddressIndex::new(
            vec![
                place("630100", "西宁市", Level::City, "630000"),
                place("630103", "城中区", Level::District, "630100"),
                place("630104", "城西区", Level::District, "630100"),
                place("630103007", "总寨镇", Level::Street, "630103"),
                place("630104001", "西关大街街道", Level::Street, "630104"),
                place("630103007204", "贾小村委会", Level::Community, "630103007"),
                place(
                    "630104001003",
                    "贾小社区居民委员会",
                    Level::Community,
                    "630104001",
                ),
            ],
            &[],
        )
    }

    #[test]
    fn names_drop_committee_suffixes() {
        let names: Vec<String> = names_of(&place("1", "友谊村村民委员会", Level::Community, "0"))
            .into_iter()
            .map(|n| n.0)
            .collect();
        assert!(names.contains(&"友谊村".to_string()));
        assert!(names.contains(&"友谊".to_string()));
        let names: Vec<String> = names_of(&place("1", "群加藏族乡", Level::Street, "0"))
            .into_iter()
            .map(|n| n.0)
            .collect();
        assert!(names.contains(&"群加乡".to_string()), "{names:?}");
        let names: Vec<String> = names_of(&place("1", "大通回族土族自治县", Level::District, "0"))
            .into_iter()
            .map(|n| n.0)
            .collect();
        assert!(names.contains(&"大通县".to_string()), "{names:?}");
        assert!(names.contains(&"大通".to_string()), "{names:?}");
    }

    #[test]
    fn city_prefix_and_its_slips_are_left_out() {
        let names = vec!["西宁市".to_string(), "西宁".to_string()];
        assert_eq!(strip_city("青海省西宁市城东区", &names), "城东区");
        assert_eq!(strip_city("西宁城东区", &names), "城东区");
        assert_eq!(strip_city("西凝市城东区", &names), "城东区");
        assert_eq!(strip_city("西宁氏城东区", &names), "城东区");
        assert_eq!(strip_city("西关大街", &names), "西关大街");
    }

    #[test]
    fn the_two_jiaxiao_are_candidates_not_a_guess() {
        let r = small().resolve("贾小42号楼");
        assert!(r.best.is_none(), "{r:?}");
        let codes: Vec<&str> = r.candidates.iter().map(|c| c.code.as_str()).collect();
        assert!(
            codes.contains(&"630103007204") && codes.contains(&"630104001003"),
            "{r:?}"
        );
    }

    #[test]
    fn a_district_settles_the_jiaxiao_question() {
        let r = small().resolve("城中区贾小");
        assert_eq!(
            r.best.as_ref().map(|b| b.code.as_str()),
            Some("630103007204"),
            "{r:?}"
        );
        let r = small().resolve("西关大街街道贾小社区42号楼");
        let best = r.best.expect("resolved");
        assert_eq!(best.code, "630104001003");
        assert!(best.confidence > 0.9, "{best:?}");
        assert_eq!(best.path, "城西区 西关大街街道 贾小社区居民委员会");
    }

    #[test]
    fn nothing_known_resolves_to_nothing() {
        assert_eq!(small().resolve("火星基地"), Resolution::default());
        assert_eq!(small().resolve(""), Resolution::default());
    }
}
