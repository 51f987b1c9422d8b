//! Addresses as Xining's citizens say them, resolved over the shipped divisions of 西宁市:
//! every district and county, streets and townships, communities and villages, committee
//! suffixes said or left out, the city's name mistyped, and the names that exist twice.

use mashangban_text::{AddressIndex, EntryKind, GazetteerEntry, Level, Place};

const DIVISIONS: &str = include_str!("../../app/data/xining_divisions.csv");

fn places() -> Vec<Place> {
    DIVISIONS
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let f: Vec<&str> = line.trim_end_matches('\r').split(',').collect();
            Place {
                code: f[0].into(),
                name: f[1].into(),
                level: Level::parse(f[2]).expect("level"),
                parent_code: Some(f[3].into()),
            }
        })
        .collect()
}

fn index() -> AddressIndex {
    AddressIndex::new(
        places(),
        &[
            GazetteerEntry {
                name: "青发小区".into(),
                kind: EntryKind::Compound,
                division_code: "630102006007".into(),
            },
            GazetteerEntry {
                name: "八一中路".into(),
                kind: EntryKind::Road,
                division_code: "630102006".into(),
            },
            GazetteerEntry {
                name: "西宁火车站".into(),
                kind: EntryKind::Landmark,
                division_code: "630102005".into(),
            },
        ],
    )
}

/// The code the address resolves to, with its confidence.
fn best(index: &AddressIndex, address: &str) -> (String, f32) {
    let r = index.resolve(address);
    let b = r
        .best
        .unwrap_or_else(|| panic!("{address}: no place; candidates {:?}", r.candidates));
    (b.code, b.confidence)
}

#[track_caller]
fn resolves(index: &AddressIndex, address: &str, code: &str) {
    let (got, confidence) = best(index, address);
    assert_eq!(got, code, "{address}");
    assert!(confidence >= 0.5, "{address}: confidence {confidence}");
}

#[test]
fn every_district_and_county_by_its_names() {
    let ix = index();
    for (address, code) in [
        ("城东区", "630102"),
        ("城中区南大街", "630103"),
        ("城西区五四大街", "630104"),
        ("城北区朝阳东路", "630105"),
        ("湟中区", "630106"),
        ("湟中县", "630106"),
        ("大通回族土族自治县", "630121"),
        ("大通县", "630121"),
        ("湟源县", "630123"),
    ] {
        resolves(&ix, address, code);
    }
}

#[test]
fn streets_and_townships() {
    let ix = index();
    for (address, code) in [
        ("湟中区鲁沙尔镇", "630106102"),
        ("鲁沙尔镇塔尔寺路", "630106102"),
        ("城东区大众街街道", "630102003"),
        ("大众街街道办事处", "630102003"),
        ("城西区虎台街道", "630104003"),
        ("城北区马坊街道", "630105003"),
        ("大通县塔尔镇", "630121102"),
        ("湟源县东峡乡", "630123200"),
        ("城中区仓门街街道", "630103003"),
    ] {
        resolves(&ix, address, code);
    }
}

#[test]
fn communities_and_villages_with_or_without_suffixes() {
    let ix = index();
    for (address, code) in [
        ("西关大街街道贾小社区42号楼", "630104001003"),
        ("湟中县鲁沙尔镇金塔社区", "630106102001"),
        ("湟中区鲁沙尔镇金塔社区居民委员会", "630106102001"),
        ("大通县塔尔镇塔尔湾居委会", "630121102001"),
        ("湟源县东峡乡石崖庄村", "630123200200"),
        ("湟源县东峡乡石崖庄村委会", "630123200200"),
        ("城中区仓门街街道石坡街社区", "630103003001"),
        ("城北区马坊街道三其村", "630105003203"),
        ("城西区虎台街道海晏路社区3号楼", "630104003002"),
        ("城东区大众街街道先进村", "630102003204"),
        ("大众街街道先进村村民委员会", "630102003204"),
        ("城东区学院社区", "630102006007"),
    ] {
        resolves(&ix, address, code);
    }
}

#[test]
fn province_and_city_said_or_mistyped() {
    let ix = index();
    for (address, code) in [
        ("青海省西宁市城北区", "630105"),
        ("青海西宁城北区", "630105"),
        ("西宁市城东区", "630102"),
        ("西宁氏城东区", "630102"),
        ("西凝市城西区虎台街道", "630104003"),
        ("细宁市湟源县", "630123"),
        ("西宁是城中区", "630103"),
        (" 西宁市 城西区，虎台街道 ", "630104003"),
        ("西宁市城西区虎台街道海晏路社区７号楼", "630104003002"),
    ] {
        resolves(&ix, address, code);
    }
}

#[test]
fn gazetteer_compounds_roads_and_landmarks() {
    let ix = index();
    resolves(&ix, "城东区八一中路青发小区7号楼3单元", "630102006007");
    resolves(&ix, "八一中路", "630102006");
    resolves(&ix, "西宁火车站广场", "630102005");
    // Without the compound, the district is what the words say.
    let bare = AddressIndex::new(places(), &[]);
    resolves(&bare, "城东区八一中路青发小区7号楼3单元", "630102");
}

#[test]
fn the_two_jiaxiao_come_back_as_candidates() {
    let ix = index();
    let r = ix.resolve("贾小42号楼");
    assert!(r.best.is_none(), "{r:?}");
    let codes: Vec<&str> = r.candidates.iter().map(|c| c.code.as_str()).collect();
    assert!(codes.contains(&"630104001003"), "{codes:?}");
    assert!(codes.contains(&"630103007204"), "{codes:?}");
    // Said with the district, or as a village, there is no question.
    resolves(&ix, "城中区贾小", "630103007204");
    resolves(&ix, "城中区南川西路街道贾小村", "630103007204");
    resolves(&ix, "城西区贾小社区", "630104001003");
}

#[test]
fn names_found_twice_are_not_guessed() {
    let ix = index();
    // 城关镇 in 大通 and in 湟源.
    let r = ix.resolve("城关镇");
    assert!(r.best.is_none(), "{r:?}");
    assert_eq!(r.candidates.len(), 2, "{r:?}");
    resolves(&ix, "湟源县城关镇", "630123100");
    resolves(&ix, "大通县城关镇", "630121101");
    // 幸福社区 in 城东区 and in 城北区.
    let r = ix.resolve("幸福社区");
    assert!(r.best.is_none(), "{r:?}");
    resolves(&ix, "城北区幸福社区", "630105003008");
    resolves(&ix, "城东区火车站街道幸福社区", "630102005005");
}

#[test]
fn places_sharing_a_name_inside_one_street_resolve_to_the_street() {
    // 乐家湾: a township, a community and a village, all in 乐家湾镇.
    let ix = index();
    let r = ix.resolve("乐家湾");
    assert_eq!(r.best.map(|b| b.code), Some("630102100".into()));
}

#[test]
fn a_wrong_district_lowers_the_confidence() {
    let ix = index();
    // 虎台街道 is in 城西区, not 城东区: the street wins on its own words, less surely.
    let r = ix.resolve("城东区虎台街道");
    let sure = ix
        .resolve("城西区虎台街道")
        .best
        .expect("resolved")
        .confidence;
    match r.best {
        Some(b) if b.code == "630104003" => assert!(b.confidence < sure, "{b:?}"),
        other => {
            let codes: Vec<&str> = r.candidates.iter().map(|c| c.code.as_str()).collect();
            assert!(codes.contains(&"630104003"), "{other:?} {codes:?}");
        }
    }
}

#[test]
fn unknown_places_resolve_to_nothing() {
    let ix = index();
    let r = ix.resolve("北京市朝阳区");
    assert!(r.best.is_none(), "{r:?}");
    assert!(ix.resolve("没有地址").best.is_none());
}
