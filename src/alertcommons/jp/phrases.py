# ruff: noqa: E501  (a phrase stays on one line, so a reviewer reads it whole)
"""The standard messages' wording in every language the hub writes, as one table.

Each message type (evacuation, shelter, headquarters, national, jma) has phrase keys; each
key has a template in every language of :data:`LANGUAGES`. The builders in ``jp/`` take all
their text from here, so adding a language is adding a column, and a missing template is a
test failure (``missing()``), never a message without its text. Templates are reviewed
wording, not machine translation; ``{place}``, ``{where}`` and the like are filled with place
names in the reader's script (:func:`place_name`).
"""

from __future__ import annotations

from alertcommons.jp.codes import name_of
from alertcommons.jp.romaji import hepburn, is_kana, kana_of, place

JA, EN, ZH_CN, ZH_TW, KO, PT, VI, EASY = (
    "ja-JP",
    "en-US",
    "zh-CN",
    "zh-TW",
    "ko-KR",
    "pt-BR",
    "vi-VN",
    "ja-JP-x-easy",  # やさしい日本語 (Easy Japanese), a private-use subtag as CAP allows
)
LANGUAGES = (JA, EN, ZH_CN, ZH_TW, KO, PT, VI, EASY)
# Languages that read Japanese place names in kanji; the others get romaji.
_KANJI = frozenset({JA, ZH_CN, ZH_TW, EASY})
_SEPARATOR = {JA: "、", ZH_CN: "、", ZH_TW: "、", EASY: "、"}

Table = dict[str, dict[str, dict[str, str]]]

PHRASES: Table = {
    "evacuation": {
        "level.3": {
            JA: "高齢者等避難",
            EN: "Elderly and others evacuate",
            ZH_CN: "高龄者等避难",
            ZH_TW: "高齡者等避難",
            KO: "고령자 등 대피",
            PT: "Evacuação de idosos e outros",
            VI: "Người cao tuổi và người cần hỗ trợ sơ tán",
            EASY: "おとしより などは にげて ください",
        },
        "level.4": {
            JA: "避難指示",
            EN: "Evacuation order",
            ZH_CN: "避难指示",
            ZH_TW: "避難指示",
            KO: "대피 지시",
            PT: "Ordem de evacuação",
            VI: "Lệnh sơ tán",
            EASY: "みんな にげて ください",
        },
        "level.5": {
            JA: "緊急安全確保",
            EN: "Emergency safety measures",
            ZH_CN: "紧急安全确保",
            ZH_TW: "緊急安全確保",
            KO: "긴급 안전 확보",
            PT: "Medidas de segurança de emergência",
            VI: "Biện pháp an toàn khẩn cấp",
            EASY: "すぐに いのちを まもって ください",
        },
        "instruction.3": {
            JA: "危険な場所から高齢者等は避難してください。",
            EN: "Older people and others who need time must leave dangerous places now.",
            ZH_CN: "老年人等需要时间避难的人请立即离开危险场所。",
            ZH_TW: "老年人等需要時間避難的人請立即離開危險場所。",
            KO: "고령자 등 대피에 시간이 걸리는 분은 지금 위험한 장소에서 대피하십시오.",
            PT: "Idosos e pessoas que precisam de mais tempo devem sair já dos locais perigosos.",
            VI: "Người cao tuổi và người cần thời gian hãy rời khỏi nơi nguy hiểm ngay.",
            EASY: "おとしより などは あぶない ところから にげて ください。",
        },
        "instruction.4": {
            JA: "危険な場所から全員避難してください。",
            EN: "Everyone must leave dangerous places now.",
            ZH_CN: "所有人请立即离开危险场所。",
            ZH_TW: "所有人請立即離開危險場所。",
            KO: "모두 지금 위험한 장소에서 대피하십시오.",
            PT: "Todos devem sair já dos locais perigosos.",
            VI: "Tất cả mọi người hãy rời khỏi nơi nguy hiểm ngay.",
            EASY: "みんな あぶない ところから にげて ください。",
        },
        "instruction.5": {
            JA: "命の危険があります。直ちに身の安全を確保してください。",
            EN: "Your life is in danger. Secure your safety immediately.",
            ZH_CN: "有生命危险。请立即确保自身安全。",
            ZH_TW: "有生命危險。請立即確保自身安全。",
            KO: "생명이 위험합니다. 즉시 안전을 확보하십시오.",
            PT: "Sua vida está em perigo. Proteja-se imediatamente.",
            VI: "Tính mạng đang gặp nguy hiểm. Hãy bảo đảm an toàn ngay lập tức.",
            EASY: "いのちが あぶないです。すぐに いのちを まもって ください。",
        },
        "hazard.flood": {
            JA: "洪水",
            EN: "flood",
            ZH_CN: "洪水",
            ZH_TW: "洪水",
            KO: "홍수",
            PT: "enchente",
            VI: "lũ lụt",
            EASY: "こうずい",
        },
        "hazard.inland_flood": {
            JA: "内水氾濫",
            EN: "inland flooding",
            ZH_CN: "内涝",
            ZH_TW: "內水氾濫",
            KO: "내수 범람",
            PT: "alagamento urbano",
            VI: "ngập úng nội đô",
            EASY: "まちの しんすい",
        },
        "hazard.landslide": {
            JA: "土砂災害",
            EN: "landslide",
            ZH_CN: "泥石流和山体滑坡",
            ZH_TW: "土石流與山崩",
            KO: "토사 재해",
            PT: "deslizamento de terra",
            VI: "sạt lở đất",
            EASY: "がけくずれ",
        },
        "hazard.storm_surge": {
            JA: "高潮",
            EN: "storm surge",
            ZH_CN: "风暴潮",
            ZH_TW: "暴潮",
            KO: "해일",
            PT: "ressaca",
            VI: "triều cường do bão",
            EASY: "たかしお",
        },
        "hazard.tsunami": {
            JA: "津波",
            EN: "tsunami",
            ZH_CN: "海啸",
            ZH_TW: "海嘯",
            KO: "쓰나미",
            PT: "tsunami",
            VI: "sóng thần",
            EASY: "つなみ",
        },
        "hazard.heavy_rain": {
            JA: "大雨",
            EN: "heavy rain",
            ZH_CN: "暴雨",
            ZH_TW: "豪雨",
            KO: "호우",
            PT: "chuva forte",
            VI: "mưa lớn",
            EASY: "おおあめ",
        },
        "hazard.other": {
            JA: "災害",
            EN: "disaster",
            ZH_CN: "灾害",
            ZH_TW: "災害",
            KO: "재해",
            PT: "desastre",
            VI: "thiên tai",
            EASY: "さいがい",
        },
        "where.all": {
            JA: "{place}全域",
            EN: "all of {place}",
            ZH_CN: "{place}全境",
            ZH_TW: "{place}全境",
            KO: "{place} 전역",
            PT: "todo o município de {place}",
            VI: "toàn bộ {place}",
            EASY: "{place}の ぜんぶ",
        },
        "headline": {
            JA: "【警戒レベル{level}】{event}（{hazard}） {where}",
            EN: "[Alert level {level}] {event} ({hazard}): {where}",
            ZH_CN: "【警戒级别{level}】{event}（{hazard}）：{where}",
            ZH_TW: "【警戒等級{level}】{event}（{hazard}）：{where}",
            KO: "[경계 레벨 {level}] {event}({hazard}): {where}",
            PT: "[Nível de alerta {level}] {event} ({hazard}): {where}",
            VI: "[Cấp cảnh báo {level}] {event} ({hazard}): {where}",
            EASY: "【レベル{level}】{event}（{hazard}） {where}",
        },
        "headline.lift": {
            JA: "【解除】{event}（{hazard}） {where}",
            EN: "[Lifted] {event} ({hazard}): {where}",
            ZH_CN: "【解除】{event}（{hazard}）：{where}",
            ZH_TW: "【解除】{event}（{hazard}）：{where}",
            KO: "[해제] {event}({hazard}): {where}",
            PT: "[Suspenso] {event} ({hazard}): {where}",
            VI: "[Đã dỡ bỏ] {event} ({hazard}): {where}",
            EASY: "【おわり】{event}（{hazard}） {where}",
        },
        "text": {
            JA: "{place}は、{hazard}の危険があるため、{where}に{event}を発令しました。",
            EN: "{place} has issued an {event_lower} for {where} because of the danger of {hazard}.",
            ZH_CN: "由于存在{hazard}危险，{place}已对{where}发布{event}。",
            ZH_TW: "由於有{hazard}的危險，{place}已對{where}發布{event}。",
            KO: "{place}은(는) {hazard} 위험 때문에 {where}에 {event}을(를) 발령했습니다.",
            PT: "{place} emitiu: {event}, para {where}, por perigo de {hazard}.",
            VI: "{place} đã ban hành {event_lower} cho {where} do nguy cơ {hazard}.",
            EASY: "{place}は {where}に「{event}」と いいました。{hazard}の きけんが あります。",
        },
        "text.lift": {
            JA: "{place}は、{where}に発令していた{event}を解除しました。",
            EN: "{place} has lifted the {event_lower} for {where}.",
            ZH_CN: "{place}已解除对{where}发布的{event}。",
            ZH_TW: "{place}已解除對{where}發布的{event}。",
            KO: "{place}은(는) {where}에 발령했던 {event}을(를) 해제했습니다.",
            PT: "{place} suspendeu para {where}: {event}.",
            VI: "{place} đã dỡ bỏ {event_lower} cho {where}.",
            EASY: "{place}は {where}の「{event}」を おわりに しました。",
        },
    },
    "shelter": {
        "state.open": {
            JA: "避難所開設",
            EN: "Shelter open",
            ZH_CN: "避难所开放",
            ZH_TW: "避難所開設",
            KO: "대피소 개설",
            PT: "Abrigo aberto",
            VI: "Mở nơi sơ tán",
            EASY: "ひなんじょが あきました",
        },
        "state.full": {
            JA: "避難所満員",
            EN: "Shelter full",
            ZH_CN: "避难所已满",
            ZH_TW: "避難所已滿",
            KO: "대피소 만원",
            PT: "Abrigo lotado",
            VI: "Nơi sơ tán đã đầy",
            EASY: "ひなんじょは いっぱいです",
        },
        "state.closed": {
            JA: "避難所閉鎖",
            EN: "Shelter closed",
            ZH_CN: "避难所关闭",
            ZH_TW: "避難所關閉",
            KO: "대피소 폐쇄",
            PT: "Abrigo fechado",
            VI: "Đóng nơi sơ tán",
            EASY: "ひなんじょを しめました",
        },
        "headline": {
            JA: "{event} {name}",
            EN: "{event}: {name}",
            ZH_CN: "{event}：{name}",
            ZH_TW: "{event}：{name}",
            KO: "{event}: {name}",
            PT: "{event}: {name}",
            VI: "{event}: {name}",
            EASY: "{event} {name}",
        },
        "text.open": {
            JA: "{place}は、{name}（{address}）を開設しました。",
            EN: "{place}: shelter {name} ({address}) is open.",
            ZH_CN: "{place}：避难所{name}（{address}）已开放。",
            ZH_TW: "{place}：避難所{name}（{address}）已開設。",
            KO: "{place}: 대피소 {name}({address})이(가) 개설되었습니다.",
            PT: "{place}: o abrigo {name} ({address}) está aberto.",
            VI: "{place}: nơi sơ tán {name} ({address}) đã mở.",
            EASY: "{place}は ひなんじょ {name}（{address}）を あけました。",
        },
        "text.full": {
            JA: "{place}は、{name}（{address}）が満員になりました。",
            EN: "{place}: shelter {name} ({address}) is full.",
            ZH_CN: "{place}：避难所{name}（{address}）已满。",
            ZH_TW: "{place}：避難所{name}（{address}）已滿。",
            KO: "{place}: 대피소 {name}({address})이(가) 만원입니다.",
            PT: "{place}: o abrigo {name} ({address}) está lotado.",
            VI: "{place}: nơi sơ tán {name} ({address}) đã đầy.",
            EASY: "{place}の ひなんじょ {name}（{address}）は いっぱいです。",
        },
        "text.closed": {
            JA: "{place}は、{name}（{address}）を閉鎖しました。",
            EN: "{place}: shelter {name} ({address}) has closed.",
            ZH_CN: "{place}：避难所{name}（{address}）已关闭。",
            ZH_TW: "{place}：避難所{name}（{address}）已關閉。",
            KO: "{place}: 대피소 {name}({address})이(가) 폐쇄되었습니다.",
            PT: "{place}: o abrigo {name} ({address}) foi fechado.",
            VI: "{place}: nơi sơ tán {name} ({address}) đã đóng.",
            EASY: "{place}は ひなんじょ {name}（{address}）を しめました。",
        },
        "safe_for": {
            JA: "対象災害：{hazards}。",
            EN: " Safe for: {hazards}.",
            ZH_CN: "适用灾害：{hazards}。",
            ZH_TW: "適用災害：{hazards}。",
            KO: " 대상 재해: {hazards}.",
            PT: " Seguro para: {hazards}.",
            VI: " An toàn khi: {hazards}.",
            EASY: "{hazards}の ときに つかえます。",
        },
        "go_elsewhere": {
            JA: "他の避難所に避難してください。",
            EN: " Please go to another shelter.",
            ZH_CN: "请前往其他避难所。",
            ZH_TW: "請前往其他避難所。",
            KO: " 다른 대피소로 가십시오.",
            PT: " Vá para outro abrigo.",
            VI: " Hãy đến nơi sơ tán khác.",
            EASY: "ほかの ひなんじょに いって ください。",
        },
    },
    "headquarters": {
        "kind.disaster": {
            JA: "災害対策本部",
            EN: "disaster headquarters",
            ZH_CN: "灾害对策本部",
            ZH_TW: "災害對策本部",
            KO: "재해대책본부",
            PT: "central de resposta a desastres",
            VI: "ban chỉ huy ứng phó thiên tai",
            EASY: "さいがいの たいさくを する ところ",
        },
        "kind.alert": {
            JA: "災害警戒本部",
            EN: "disaster alert headquarters",
            ZH_CN: "灾害警戒本部",
            ZH_TW: "災害警戒本部",
            KO: "재해경계본부",
            PT: "central de alerta de desastres",
            VI: "ban cảnh giới thiên tai",
            EASY: "さいがいに ちゅういする ところ",
        },
        "event.established": {
            JA: "{kind}設置",
            EN: "{kind_cap} established",
            ZH_CN: "设立{kind}",
            ZH_TW: "設置{kind}",
            KO: "{kind} 설치",
            PT: "{kind_cap} instalada",
            VI: "Thành lập {kind}",
            EASY: "{kind}を つくりました",
        },
        "event.dissolved": {
            JA: "{kind}廃止",
            EN: "{kind_cap} dissolved",
            ZH_CN: "撤销{kind}",
            ZH_TW: "廢止{kind}",
            KO: "{kind} 폐지",
            PT: "{kind_cap} desativada",
            VI: "Giải thể {kind}",
            EASY: "{kind}を おわりに しました",
        },
        "text.established": {
            JA: "{place}は{kind}を設置しました。",
            EN: "{place} has set up its {kind}.",
            ZH_CN: "{place}已设立{kind}。",
            ZH_TW: "{place}已設置{kind}。",
            KO: "{place}은(는) {kind}를 설치했습니다.",
            PT: "{place} instalou sua {kind}.",
            VI: "{place} đã thành lập {kind}.",
            EASY: "{place}は {kind}を つくりました。",
        },
        "text.dissolved": {
            JA: "{place}は{kind}を廃止しました。",
            EN: "{place} has dissolved its {kind}.",
            ZH_CN: "{place}已撤销{kind}。",
            ZH_TW: "{place}已廢止{kind}。",
            KO: "{place}은(는) {kind}를 폐지했습니다.",
            PT: "{place} desativou sua {kind}.",
            VI: "{place} đã giải thể {kind}.",
            EASY: "{place}は {kind}を おわりに しました。",
        },
    },
    "national": {
        "event.missile": {
            JA: "弾道ミサイル情報",
            EN: "Ballistic missile",
            ZH_CN: "弹道导弹信息",
            ZH_TW: "彈道飛彈資訊",
            KO: "탄도 미사일 정보",
            PT: "Míssil balístico",
            VI: "Tên lửa đạn đạo",
            EASY: "ミサイルの じょうほう",
        },
        "text.missile": {
            JA: "ミサイル発射。ミサイル発射。ミサイルが発射されたものとみられます。"
            "建物の中、又は地下に避難して下さい。",
            EN: "Missile launch. A missile appears to have been launched. "
            "Take shelter inside a building or underground now.",
            ZH_CN: "导弹发射。似乎有导弹被发射。请立即到建筑物内或地下避难。",
            ZH_TW: "飛彈發射。似乎有飛彈被發射。請立即到建築物內或地下避難。",
            KO: "미사일 발사. 미사일이 발사된 것으로 보입니다. 즉시 건물 안이나 지하로 대피하십시오.",
            PT: "Lançamento de míssil. Parece que um míssil foi lançado. "
            "Abrigue-se já dentro de um prédio ou no subsolo.",
            VI: "Phóng tên lửa. Có vẻ một tên lửa đã được phóng. "
            "Hãy trú ẩn ngay trong tòa nhà hoặc dưới lòng đất.",
            EASY: "ミサイルが とんで きたかも しれません。"
            "すぐに たてものの なかか ちかに にげて ください。",
        },
        "event.eew": {
            JA: "緊急地震速報",
            EN: "Earthquake early warning",
            ZH_CN: "紧急地震速报",
            ZH_TW: "緊急地震速報",
            KO: "긴급 지진 속보",
            PT: "Alerta antecipado de terremoto",
            VI: "Cảnh báo sớm động đất",
            EASY: "おおきな じしんが きます",
        },
        "text.eew": {
            JA: "緊急地震速報。大地震です。大地震です。強い揺れに警戒して下さい。",
            EN: "Earthquake early warning. Strong shaking is coming. Protect yourself now.",
            ZH_CN: "紧急地震速报。强烈震动即将到来。请立即保护自己。",
            ZH_TW: "緊急地震速報。強烈搖晃即將到來。請立即保護自己。",
            KO: "긴급 지진 속보. 강한 흔들림이 옵니다. 지금 몸을 보호하십시오.",
            PT: "Alerta de terremoto. Tremores fortes estão chegando. Proteja-se agora.",
            VI: "Cảnh báo sớm động đất. Rung lắc mạnh sắp đến. Hãy tự bảo vệ ngay.",
            EASY: "おおきな じしんが きます。あたまを まもって ください。",
        },
        "event.major_tsunami": {
            JA: "大津波警報",
            EN: "Major tsunami warning",
            ZH_CN: "大海啸警报",
            ZH_TW: "大海嘯警報",
            KO: "대형 쓰나미 경보",
            PT: "Alerta de grande tsunami",
            VI: "Cảnh báo sóng thần lớn",
            EASY: "おおきな つなみが きます",
        },
        "text.major_tsunami": {
            JA: "大津波警報が発表されました。海岸付近の方は直ちに高台に避難して下さい。",
            EN: "A major tsunami warning has been issued. "
            "If you are near the coast, go to high ground immediately.",
            ZH_CN: "已发布大海啸警报。在海岸附近的人请立即到高处避难。",
            ZH_TW: "已發布大海嘯警報。在海岸附近的人請立即到高處避難。",
            KO: "대형 쓰나미 경보가 발표되었습니다. 해안 근처에 있는 분은 즉시 높은 곳으로 대피하십시오.",
            PT: "Foi emitido um alerta de grande tsunami. "
            "Se estiver perto da costa, vá imediatamente para um lugar alto.",
            VI: "Đã ban hành cảnh báo sóng thần lớn. "
            "Nếu ở gần bờ biển, hãy lên chỗ cao ngay lập tức.",
            EASY: "おおきな つなみが きます。うみの ちかくの ひとは すぐに たかい ところへ にげて ください。",
        },
        "event.air_attack": {
            JA: "航空攻撃情報",
            EN: "Air attack",
            ZH_CN: "空袭信息",
            ZH_TW: "空襲資訊",
            KO: "항공 공격 정보",
            PT: "Ataque aéreo",
            VI: "Tấn công từ trên không",
            EASY: "そらからの こうげきの じょうほう",
        },
        "text.air_attack": {
            JA: "航空攻撃情報。当地域に航空攻撃の可能性があります。屋内に避難し、"
            "テレビ・ラジオをつけて下さい。",
            EN: "Air attack warning. This area may come under air attack. "
            "Go indoors and turn on the TV or radio.",
            ZH_CN: "空袭警报。本地区可能遭受空袭。请到室内避难，并打开电视或收音机。",
            ZH_TW: "空襲警報。本地區可能遭受空襲。請到室內避難，並打開電視或收音機。",
            KO: "항공 공격 경보. 이 지역이 공격받을 수 있습니다. 실내로 대피하고 TV나 라디오를 켜십시오.",
            PT: "Alerta de ataque aéreo. Esta área pode sofrer um ataque aéreo. "
            "Entre em um prédio e ligue a TV ou o rádio.",
            VI: "Cảnh báo tấn công từ trên không. Khu vực này có thể bị tấn công. "
            "Hãy vào trong nhà và bật TV hoặc radio.",
            EASY: "そらから こうげきが あるかも しれません。"
            "たてものの なかに はいって テレビや ラジオを つけて ください。",
        },
        "event.large_scale_terror": {
            JA: "大規模テロ情報",
            EN: "Large-scale terrorism",
            ZH_CN: "大规模恐怖袭击信息",
            ZH_TW: "大規模恐怖攻擊資訊",
            KO: "대규모 테러 정보",
            PT: "Terrorismo em grande escala",
            VI: "Khủng bố quy mô lớn",
            EASY: "おおきな テロの じょうほう",
        },
        "text.large_scale_terror": {
            JA: "大規模テロ情報。当地域に大規模テロの可能性があります。屋内に避難し、"
            "テレビ・ラジオをつけて下さい。",
            EN: "Large-scale terrorism warning. Go indoors and turn on the TV or radio.",
            ZH_CN: "大规模恐怖袭击警报。请到室内避难，并打开电视或收音机。",
            ZH_TW: "大規模恐怖攻擊警報。請到室內避難，並打開電視或收音機。",
            KO: "대규모 테러 경보. 실내로 대피하고 TV나 라디오를 켜십시오.",
            PT: "Alerta de terrorismo em grande escala. Entre em um prédio e ligue a TV ou o rádio.",
            VI: "Cảnh báo khủng bố quy mô lớn. Hãy vào trong nhà và bật TV hoặc radio.",
            EASY: "おおきな テロが あるかも しれません。"
            "たてものの なかに はいって テレビや ラジオを つけて ください。",
        },
    },
}


def _jma() -> dict[str, dict[str, str]]:
    from alertcommons.jp.phrases_jma import ROWS

    # zip, not zip(strict=True): a row short of a language shows up in missing(), by name.
    return {key: dict(zip(LANGUAGES, row, strict=False)) for key, row in ROWS.items()}


PHRASES["jma"] = _jma()


def missing(table: Table | None = None) -> list[str]:
    """Every ``type/key/language`` without a template (empty when the table is whole)."""
    found = []
    for kind, keys in (table or PHRASES).items():
        for key, templates in keys.items():
            found += [f"{kind}/{key}/{lang}" for lang in LANGUAGES if not templates.get(lang)]
    return found


def phrase(message: str, key: str, language: str, /, **values: str | int) -> str:
    return PHRASES[message][key][language].format(**values)


def kanji_script(language: str) -> bool:
    return language in _KANJI


def separator(language: str) -> str:
    return _SEPARATOR.get(language, ", ")


def places_separator(language: str) -> str:
    """Between place names, which in romaji hold a comma themselves (Chiyoda-ku, Tokyo)."""
    return _SEPARATOR.get(language, "; ")


def place_name(code: str, language: str) -> str:
    """A local-government code's name as a reader of ``language`` reads it: kanji, kanji
    with its reading for Easy Japanese, else romaji."""
    if language == EASY:
        return f"{name_of(code)}（{kana_of(code)}）"
    return name_of(code) if kanji_script(language) else place(code)


def local_name(name: str, language: str) -> str:
    """A name the issuer wrote (a district, a shelter): romaji where it is all kana and the
    reader's script is not Japanese; as written otherwise (there is no reading to go by)."""
    if kanji_script(language) or not is_kana(name):
        return name
    return hepburn(name).capitalize()


def wanted(languages: tuple[str, ...] | None) -> tuple[str, ...]:
    """The languages to write, in table order; Japanese always comes first."""
    chosen = set(languages or LANGUAGES) | {JA}
    return tuple(language for language in LANGUAGES if language in chosen)
