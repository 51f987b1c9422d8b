//! Written replies, each showing one finding (or none), with the findings expected by hand.

use super::*;

fn kinds(request: &str, reply: &str, record: &ReplyRecord) -> Vec<&'static str> {
    inspect_reply(request, reply, record)
        .iter()
        .map(|f| f.kind.as_str())
        .collect()
}

fn plain(request: &str, reply: &str) -> Vec<&'static str> {
    kinds(request, reply, &ReplyRecord::default())
}

const SEWAGE: &str = "城中区南大街12号院的污水井堵了三天，污水倒灌进地下室，请尽快疏通。";

#[test]
fn a_reply_that_did_the_work_has_no_finding() {
    assert_eq!(
        plain(
            SEWAGE,
            "您好！接到反映后，城中区市政管理所于5月8日派人到南大街12号院现场查看，当天下午已疏通污水井，清理了地下室积水，并对井口加装了防护盖板。感谢您对我们工作的支持！"
        ),
        Vec::<&str>::new()
    );
}

#[test]
fn acknowledgement_only_addresses_nothing_and_does_nothing() {
    assert_eq!(
        plain(
            SEWAGE,
            "您好！您的留言已收悉，已转相关部门调查处理。感谢您的留言！"
        ),
        vec!["unaddressed_point", "no_action"]
    );
}

#[test]
fn a_question_left_out_is_named() {
    let request = "1、请问小区的公租房申请需要哪些材料？2、申请以后多久能分到房子？";
    let reply = "网友您好！申请公租房需要提供户口本、身份证、收入证明和无房证明，到街道民政窗口提交。感谢您的关注！";
    let found = inspect_reply(request, reply, &ReplyRecord::default());
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].kind.as_str(), "unaddressed_point");
    assert_eq!(
        found[0].evidence,
        vec!["申请以后多久能分到房子".to_string()]
    );
}

#[test]
fn not_our_duty_is_passing_the_buck() {
    assert!(
        plain(
            "小区二次供水水压太低，高层业主晚上用不上水。",
            "您好！经了解，小区二次供水设施不属于我单位管辖范围，建议您向物业公司反映。"
        )
        .contains(&"buck_passing")
    );
}

#[test]
fn a_bare_referral_is_passing_the_buck_but_not_after_an_answer() {
    assert!(
        plain(
            "外地户口的孩子在本区上小学需要什么条件？",
            "网友您好，建议您直接向区教育局咨询，联系电话：0971-1234567。"
        )
        .contains(&"buck_passing")
    );
    assert!(
        !plain(
            "外地户口的孩子在本区上小学需要什么条件？",
            "网友您好！根据《城东区义务教育招生办法》，随迁子女凭父母一方的居住证、务工或经商证明和户口本，于6月1日至15日在网上报名，由区教育局统筹安排学位。如有疑问可拨打0971-1234567咨询。"
        )
        .contains(&"buck_passing")
    );
}

#[test]
fn as_soon_as_possible_without_a_date_is_an_empty_promise() {
    assert!(
        plain(
            "路灯坏了一个月了，晚上一片漆黑。",
            "您好！经核实，该路段路灯线路老化，我局正在研究改造方案，将尽快组织维修。"
        )
        .contains(&"empty_promise")
    );
    // With the date, the same promise is concrete.
    assert!(
        !plain(
            "路灯坏了一个月了，晚上一片漆黑。",
            "您好！经核实，该路段路灯线路老化，我局已安排施工队，将于6月20日前完成维修。"
        )
        .contains(&"empty_promise")
    );
}

#[test]
fn a_closing_formula_after_the_work_is_done_is_not_a_promise() {
    assert!(
        !plain(
            SEWAGE,
            "您好！5月8日市政管理所已疏通污水井并清理了积水。下一步我们将进一步加强巡查，防止再次堵塞。"
        )
        .contains(&"empty_promise")
    );
}

#[test]
fn another_persons_mobile_or_id_number_is_personal_data_and_is_masked() {
    let record = ReplyRecord {
        citizen_phones: vec!["13800001111".into()],
        citizen_has_phone: true,
        ..Default::default()
    };
    let found = inspect_reply(
        SEWAGE,
        "您好！5月8日已疏通。施工负责人王师傅电话13912345678，业主李某身份证号630102198001011234已登记。我们已电话告知您（13800001111）。",
        &record,
    );
    let personal: Vec<_> = found
        .iter()
        .filter(|f| f.kind.as_str() == "personal_data")
        .collect();
    assert_eq!(personal.len(), 1, "{found:?}");
    // 630102198001011234 has a wrong check digit: not an identity number. The citizen's
    // own number is theirs to read.
    assert_eq!(personal[0].evidence, vec!["139****5678".to_string()]);
    let found = inspect_reply(
        SEWAGE,
        "您好！5月8日已疏通。业主李某身份证号11010519491231002x已登记。",
        &record,
    );
    assert!(
        found
            .iter()
            .any(|f| f.kind.as_str() == "personal_data" && f.evidence == ["110***********002x"]),
        "{found:?}"
    );
}

#[test]
fn resolved_while_an_extension_is_pending_contradicts_the_record() {
    let pending = ReplyRecord {
        extension_pending: true,
        citizen_has_phone: true,
        ..Default::default()
    };
    let reply = "您好！5月8日市政管理所已疏通污水井，问题已解决。";
    assert!(kinds(SEWAGE, reply, &pending).contains(&"contradicts_record"));
    assert!(!kinds(SEWAGE, reply, &ReplyRecord::default()).contains(&"contradicts_record"));
    let levels = ReplyRecord {
        levels_open: vec![7],
        ..Default::default()
    };
    assert!(kinds(SEWAGE, reply, &levels).contains(&"contradicts_record"));
}

#[test]
fn contacted_without_a_phone_or_a_recorded_contact_contradicts_the_record() {
    let reply = "您好！5月8日已疏通污水井，工作人员已电话联系您并告知处理结果。";
    let anonymous = ReplyRecord::default();
    assert!(kinds(SEWAGE, reply, &anonymous).contains(&"contradicts_record"));
    let reachable = ReplyRecord {
        citizen_has_phone: true,
        ..Default::default()
    };
    assert!(!kinds(SEWAGE, reply, &reachable).contains(&"contradicts_record"));
}

#[test]
fn the_findings_explain_themselves_in_chinese() {
    for f in inspect_reply(SEWAGE, "您好！留言已收悉。", &ReplyRecord::default()) {
        assert!(f.why.chars().any(is_han), "{f:?}");
    }
}

#[test]
fn rhetorical_questions_are_not_points() {
    assert_eq!(
        questions("难道老百姓的命就不值钱吗?请尽快处理。"),
        Vec::<String>::new()
    );
}
