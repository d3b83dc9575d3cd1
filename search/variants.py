"""Old-form (旧字体) and variant (異体字) kanji folded to their common modern form.

The table covers the 旧字体/新字体 pairs of the 1949 当用漢字字体表 that still turn up in
names, old statutes and scanned documents, plus the 異体字 common in personal and place
names (髙, 﨑, 邉, 嶋, 齋 …). Folding is one code point to one code point, so a
``str.translate`` does it and character offsets are untouched.

Characters that NFKC already maps (the CJK compatibility ideographs such as U+FA10 → 塚)
are not listed: normalization runs NFKC first. The few ideographs of that block that NFKC
leaves alone, such as 﨑 (U+FA11), are listed.
"""

from __future__ import annotations

# old-or-variant + modern, two characters per entry, grouped only to keep lines short.
_PAIRS = """
亞亜 惡悪 壓圧 圍囲 爲為 醫医 壹壱 隱隠 飮飲 營営 榮栄 衞衛 驛駅 圓円 鹽塩 艷艶 奧奥 應応 歐欧 毆殴 櫻桜 溫温
穩穏 假仮 價価 畫画 會会 囘回 壞壊 懷懐 繪絵 槪概 擴拡 殼殻 覺覚 學学 嶽岳 樂楽 渴渇 卷巻 陷陥 寬寛 觀観 關関
歡歓 顏顔 氣気 歸帰 龜亀 僞偽 戲戯 犧犠 舊旧 據拠 擧挙 峽峡 挾挟 狹狭 曉暁 區区 驅駆 勳勲 徑径 惠恵 溪渓 經経
莖茎 螢蛍 輕軽 繼継 鷄鶏 藝芸 缺欠 儉倹 劍剣 圈圏 檢検 權権 獻献 縣県 險険 顯顕 驗験 嚴厳 效効 廣広 恆恒 鑛鉱
號号 國国 黑黒 濟済 碎砕 齋斎 齊斎 劑剤 歲歳 雜雑 參参 慘惨 棧桟 蠶蚕 贊賛 殘残 絲糸 齒歯 兒児 辭辞 濕湿 實実
舍舎 寫写 釋釈 壽寿 收収 從従 澁渋 獸獣 縱縦 肅粛 處処 緖緒 敍叙 將将 燒焼 稱称 證証 乘乗 剩剰 壤壌 孃嬢 條条
淨浄 狀状 疊畳 穰穣 讓譲 釀醸 囑嘱 觸触 寢寝 愼慎 眞真 晉晋 盡尽 圖図 粹粋 醉酔 隨随 髓髄 數数 樞枢 聲声 靜静
靑青 攝摂 竊窃 專専 戰戦 淺浅 潛潜 纖繊 踐践 錢銭 禪禅 雙双 壯壮 搜捜 插挿 爭争 總総 聰聡 莊荘 裝装 騷騒 藏蔵
臟臓 屬属 續続 墮堕 體体 對対 帶帯 滯滞 臺台 瀧滝 擇択 澤沢 單単 擔担 膽胆 團団 彈弾 斷断 癡痴 遲遅 晝昼 蟲虫
鑄鋳 廳庁 聽聴 敕勅 鎭鎮 遞逓 鐵鉄 轉転 點点 傳伝 黨党 盜盗 燈灯 當当 鬪闘 獨独 讀読 屆届 繩縄 貳弐 惱悩 腦脳
霸覇 廢廃 拜拝 賣売 麥麦 發発 髮髪 拔抜 蠻蛮 祕秘 濱浜 濵浜 甁瓶 拂払 佛仏 竝並 變変 邊辺 邉辺 辯弁 瓣弁 辨弁
舖舗 步歩 寶宝 豐豊 沒没 飜翻 每毎 萬万 滿満 默黙 彌弥 譯訳 藥薬 與与 豫予 餘余 譽誉 搖揺 樣様 謠謡 來来 賴頼
亂乱 覽覧 龍竜 兩両 獵猟 綠緑 壘塁 勵励 禮礼 隸隷 靈霊 齡齢 戀恋 爐炉 勞労 樓楼 郞郎 錄録 灣湾 卽即 旣既 德徳
揭掲 曆暦 歷歴 淚涙 涉渉 淸清 豬猪 硏研 餠餅 黃黄 曾曽 巢巣 敎教 增増 虛虚 麵麺 鷗鴎 蟬蝉 搔掻 摑掴 焰焔 祿禄
兔兎 戶戸 穗穂
髙高 﨑崎 嵜崎 碕崎 嶋島 嶌島 峯峰 冨富 桒桑 舘館 栁柳 槇槙 𠮷吉
"""

VARIANTS: dict[str, str] = {p[0]: p[1] for p in _PAIRS.split()}

#: ``str.translate`` table: code point of the variant -> modern character.
VARIANT_TABLE: dict[int, str] = {ord(k): v for k, v in VARIANTS.items()}


def fold_variants(text: str) -> str:
    """Replace old-form and variant kanji by their modern form (length preserving).

    >>> fold_variants("戰略會議 髙橋 山﨑 渡邊 齋藤 國學院 廣島 濱田 澤井")
    '戦略会議 高橋 山崎 渡辺 斎藤 国学院 広島 浜田 沢井'
    """
    return text.translate(VARIANT_TABLE)
