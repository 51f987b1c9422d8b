use super::evaluation::{evaluate, parse_file, parse_marked};
use super::*;

fn plain(text: &str) -> String {
    anonymise(text, &Options::default()).text
}

#[test]
fn takes_out_names_phones_and_house_numbers() {
    let got = anonymise(
        "我叫王芳，电话13912345678，城东区八一中路青发小区7号楼3单元502室门口的路灯不亮了",
        &Options::default(),
    );
    assert_eq!(
        got.text,
        "我叫某某，电话[电话]，城东区八一中路青发小区[门牌号]门口的路灯不亮了"
    );
    let kinds: Vec<(PersonalKind, &str)> = got
        .removed
        .iter()
        .map(|r| (r.kind, r.original.as_str()))
        .collect();
    assert_eq!(
        kinds,
        vec![
            (PersonalKind::Name, "王芳"),
            (PersonalKind::Phone, "13912345678"),
            (PersonalKind::House, "7号楼3单元502室"),
        ]
    );
    assert_eq!(got.removed[1].at, 7);
}

#[test]
fn honorifics_and_half_hidden_surnames_lose_the_surname() {
    assert_eq!(plain("市民马女士来电反映"), "市民某女士来电反映");
    assert_eq!(plain("城管熊队长随意扣押"), "城管某队长随意扣押");
    assert_eq!(plain("老板彭某某不给签合同"), "老板某某某不给签合同");
    assert_eq!(plain("我姓李，李先生"), "我姓某，某先生");
    assert_eq!(plain("欧阳女士称"), "某女士称");
}

#[test]
fn names_after_cues_stop_at_the_verb() {
    assert_eq!(
        plain("物业经理杨军说不归他们管"),
        "物业经理某某说不归他们管"
    );
    assert_eq!(plain("社区工作人员魏娟告诉我"), "社区工作人员某某告诉我");
    assert_eq!(plain("其母亲沈桂兰在养老院"), "其母亲某某在养老院");
    assert_eq!(plain("反映人：韩玉兰，"), "反映人：某某，");
}

#[test]
fn words_that_begin_with_a_surname_are_left() {
    assert_eq!(plain("我是高三学生"), "我是高三学生");
    assert_eq!(plain("请马上处理"), "请马上处理");
    assert_eq!(plain("我是马坊小区的"), "我是马坊小区的");
    assert_eq!(plain("老百姓的事"), "老百姓的事");
    assert_eq!(plain("向某部门反映"), "向某部门反映");
}

#[test]
fn numbers_that_are_not_personal_are_left() {
    for text in [
        "12345热线今年受理诉求120万件，按时办结率98.6%",
        "2024年1月起每人每年380元",
        "地铁1号线规划什么时候开工",
        "6月1号公布，第3号文件",
        "西宁市8路公交车间隔太长",
        "G109国道城西段路面破损",
        "住在18楼",
        "涉及农民工42人，共计36万元",
        "日期是20240101",
    ] {
        assert_eq!(plain(text), text, "{text}");
    }
}

#[test]
fn spoken_grouped_and_masked_phones() {
    assert_eq!(plain("手机幺三八 零九七一 二二三三，"), "手机[电话]，");
    assert_eq!(plain("电话139-0971-5566"), "电话[电话]");
    assert_eq!(plain("电话0971 8123456"), "电话[电话]");
    assert_eq!(plain("（138****2345）"), "（[电话]）");
}

#[test]
fn id_cards_cards_plates_and_emails() {
    assert_eq!(
        plain("身份证号63212319900101002X，"),
        "身份证号[身份证号]，"
    );
    assert_eq!(plain("身份证630105 1983 0417 1215，"), "身份证[身份证号]，");
    assert_eq!(
        plain("银行卡号6222 0212 3456 7890 123，"),
        "银行卡号[账号]，"
    );
    assert_eq!(plain("户号是0102345678，"), "户号是[账号]，");
    assert_eq!(plain("车牌青A·D67890"), "车牌[车牌号]");
    assert_eq!(plain("车牌西宁A12345，"), "车牌[车牌号]，");
    assert_eq!(plain("车号青A1234D，"), "车号[车牌号]，");
    assert_eq!(plain("邮箱wangli_0908@qq.com或"), "邮箱[邮箱]或");
}

#[test]
fn places_below_the_street_only_when_asked() {
    let text = "城北区朝阳街道祁家城社区的青发小区";
    assert_eq!(plain(text), text);
    let got = anonymise(
        text,
        &Options {
            generalise_places: true,
            known: vec![],
        },
    );
    assert_eq!(got.text, "城北区朝阳街道某社区的某小区");
    assert_eq!(got.removed[0].kind, PersonalKind::Place);
}

#[test]
fn known_strings_go_wherever_they_are() {
    let got = anonymise(
        "回访张三丰，张三丰表示满意",
        &Options {
            generalise_places: false,
            known: vec![(PersonalKind::Name, "张三丰".into())],
        },
    );
    assert_eq!(got.text, "回访某某，某某表示满意");
}

#[test]
fn full_width_forms_are_read_and_kept_around() {
    assert_eq!(plain("电话１３９１２３４５６７８。"), "电话[电话]。");
}

#[test]
fn marks_are_read() {
    let m = parse_marked("我叫[[name:王芳]]，电话[[phone:139]]").unwrap();
    assert_eq!(m.text, "我叫王芳，电话139");
    assert_eq!(
        m.personal,
        vec![(PersonalKind::Name, 2, 4), (PersonalKind::Phone, 7, 10)]
    );
    assert!(parse_marked("[[nom:王芳]]").is_err());
    assert!(parse_marked("[[name:王芳").is_err());
}

/// The set written for the anonymiser: at least 200 texts, recall ≥ 0.99 on each part
/// (`mashangban anonymise eval` prints the figures).
#[test]
fn recall_on_the_written_set() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../eval/anonymise/texts.txt"
    );
    let set = parse_file(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert!(set.len() >= 200, "{} texts", set.len());
    let [tuned, untouched] = evaluate(&set);
    assert!(tuned.recall() >= 0.99, "odd part: {:?}", tuned.missed);
    assert!(
        untouched.recall() >= 0.99,
        "even part recall {:.4}",
        untouched.recall()
    );
}

#[test]
fn a_record_keeps_its_shape_and_loses_the_citizen() {
    let mut event = serde_json::json!({
        "type": "received",
        "number": "XN20261207000001",
        "tracking_code": "K7Q2X3",
        "channel": "phone",
        "title": "青发小区7号楼路灯不亮",
        "content": "我叫王芳，电话13912345678，青发小区7号楼3单元门口的路灯不亮",
        "citizen": {"name": "王芳", "phone": "13912345678", "no_sms": false},
        "division_code": "630102001001",
        "category_code": "010403",
        "at": "2026-12-07T02:00:00.123456Z",
        "created_at": "2026-12-07T02:12:13.912345678Z",
        "held_on": "2026-12-07",
        "notes": [{"note": "已联系王芳，车牌青A12345"}]
    });
    let known = vec![
        (PersonalKind::Name, "王芳".to_string()),
        (PersonalKind::Phone, "13912345678".to_string()),
    ];
    let mut contact_only = event.clone();
    let n = scrub_record(
        &mut contact_only,
        &Scrub {
            contact: true,
            content: false,
            recordings: false,
            known: known.clone(),
        },
    );
    assert_eq!(
        contact_only["citizen"],
        serde_json::json!({"name": null, "phone": null, "no_sms": false})
    );
    assert_eq!(
        contact_only["content"],
        "我叫某某，电话[电话]，青发小区7号楼3单元门口的路灯不亮"
    );
    assert_eq!(contact_only["notes"][0]["note"], "已联系某某，车牌青A12345");
    assert_eq!(n, 2 + 2 + 1);
    let n = scrub_record(
        &mut event,
        &Scrub {
            contact: true,
            content: true,
            recordings: false,
            known,
        },
    );
    assert_eq!(event["title"], "某小区[门牌号]路灯不亮");
    assert_eq!(
        event["content"],
        "我叫某某，电话[电话]，某小区[门牌号]门口的路灯不亮"
    );
    assert_eq!(event["notes"][0]["note"], "已联系某某，车牌[车牌号]");
    // Codes, numbers and times are untouched.
    for key in [
        "type",
        "number",
        "tracking_code",
        "channel",
        "division_code",
        "category_code",
        "at",
    ] {
        assert_ne!(event[key], serde_json::Value::Null, "{key}");
    }
    assert_eq!(event["number"], "XN20261207000001");
    assert_eq!(event["at"], "2026-12-07T02:00:00.123456Z");
    assert_eq!(event["created_at"], "2026-12-07T02:12:13.912345678Z");
    assert_eq!(event["held_on"], "2026-12-07");
    assert_eq!(event["division_code"], "630102001001");
    assert!(n >= 8, "{n}");
    // A second pass finds nothing more.
    let again = event.clone();
    assert_eq!(
        scrub_record(
            &mut event,
            &Scrub {
                contact: true,
                content: true,
                recordings: false,
                known: vec![]
            }
        ),
        0
    );
    assert_eq!(event, again);
}

#[test]
fn a_cases_drafting_forgets_its_originals_and_keeps_the_rest() {
    let mut record = serde_json::json!({
        "id": 4,
        "request": "某某反映东关大街[门牌号]路灯不亮",
        "removed": [
            {"field": "request", "kind": "name", "original": "张三", "replacement": "某某"},
            {"field": "request", "kind": "house", "original": "16号", "replacement": "[门牌号]"},
            {"field": "request", "kind": "place", "original": "某某", "replacement": "某某"}
        ],
        "before": {"removed": [{"original": "13812345678", "replacement": "[电话]"}]}
    });
    assert_eq!(forget_removed_originals(&mut record), 3);
    assert_eq!(
        record,
        serde_json::json!({
            "id": 4,
            "request": "某某反映东关大街[门牌号]路灯不亮",
            "removed": [
                {"field": "request", "kind": "name", "original": "某某", "replacement": "某某"},
                {"field": "request", "kind": "house", "original": "[门牌号]", "replacement": "[门牌号]"},
                {"field": "request", "kind": "place", "original": "某某", "replacement": "某某"}
            ],
            "before": {"removed": [{"original": "[电话]", "replacement": "[电话]"}]}
        })
    );
    assert_eq!(forget_removed_originals(&mut record), 0);
}

#[test]
fn a_calls_recording_goes_with_its_own_kind_and_is_never_read_as_text() {
    let mut event = serde_json::json!({
        "type": "received",
        "recording": "CALL-20261207-13812345678",
        "content": "电话13812345678反映路灯不亮",
    });
    let texts = Scrub {
        contact: true,
        content: true,
        recordings: false,
        known: vec![],
    };
    assert_eq!(scrub_record(&mut event, &texts), 1);
    assert_eq!(event["recording"], "CALL-20261207-13812345678");
    assert_eq!(event["content"], "电话[电话]反映路灯不亮");
    let recordings = Scrub {
        contact: false,
        content: false,
        recordings: true,
        known: vec![],
    };
    assert_eq!(scrub_record(&mut event, &recordings), 1);
    assert_eq!(event["recording"], serde_json::Value::Null);
    assert_eq!(scrub_record(&mut event, &recordings), 0);
}
