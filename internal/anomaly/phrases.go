package anomaly

// defaultRefusalPhrases are how models decline, in lower case with ASCII
// apostrophes, in English, French, German, Spanish, Portuguese, Italian,
// Dutch, Chinese and Japanese. They are specific on purpose ("I can't help
// with", not "I can't"): an answer that explains what it cannot do and then
// does the rest is not a refusal.
var defaultRefusalPhrases = []string{
	// English
	"i can't help with", "i cannot help with", "i can't assist with", "i cannot assist with",
	"i can't help you with", "i cannot help you with", "i'm unable to help", "i am unable to help",
	"i'm not able to help", "i am not able to help", "i'm unable to assist", "i am unable to assist",
	"i can't provide that", "i cannot provide that", "i can't provide information on", "i cannot provide information on",
	"i can't provide instructions", "i cannot provide instructions", "i can't comply", "i cannot comply",
	"i won't be able to help", "i will not be able to help", "i must decline", "i have to decline",
	"i'm not able to provide", "i am not able to provide", "i'm unable to provide", "i am unable to provide",
	"i can't fulfill", "i cannot fulfill", "i can't fulfil", "i cannot fulfil", "i can't do that", "i cannot do that",
	"i'm sorry, but i can't", "i'm sorry, but i cannot", "i am sorry, but i cannot", "sorry, but i can't",
	"sorry, i can't help", "i'm sorry, i can't", "as an ai language model, i cannot", "as an ai language model, i can't",
	"as an ai, i cannot", "i can't create content", "i cannot create content", "i can't generate content",
	"i cannot generate content", "i can't engage in", "i won't help with", "i will not help with",
	"i'm not going to help", "i can't answer that", "i cannot answer that", "i'm not allowed to", "i am not allowed to",
	"i can't support that request", "i can't assist you with", "i cannot assist you with",
	// French
	"je ne peux pas vous aider", "je ne peux pas t'aider", "je ne peux pas répondre à cette", "je ne peux pas fournir",
	"je ne suis pas en mesure de", "désolé, mais je ne peux pas", "je suis désolé, mais je ne peux pas",
	"je ne peux pas accéder à votre demande", "je ne peux pas donner suite", "je dois refuser", "je ne peux pas aider",
	// German
	"ich kann ihnen dabei nicht helfen", "ich kann dir dabei nicht helfen", "ich kann dabei nicht helfen",
	"ich kann ihnen nicht helfen", "ich kann dir nicht helfen", "es tut mir leid, aber ich kann", "leider kann ich dabei nicht",
	"leider kann ich ihnen nicht", "leider kann ich dir nicht", "ich bin nicht in der lage", "ich kann diese anfrage nicht",
	"das kann ich nicht tun", "ich muss ablehnen", "dabei kann ich nicht helfen", "dabei kann ich ihnen nicht helfen",
	"dabei kann ich dir nicht helfen",
	// Spanish
	"no puedo ayudarte con", "no puedo ayudar con", "no puedo ayudarle", "no puedo proporcionar", "no puedo cumplir",
	"lo siento, pero no puedo", "lo siento, no puedo", "no estoy en condiciones de", "no puedo responder a",
	"debo rechazar", "no puedo ayudarte", "no puedo asistir",
	// Portuguese
	"não posso ajudar", "não posso te ajudar", "não posso ajudá-lo", "não posso ajudá-la", "não posso fornecer",
	"desculpe, mas não posso", "sinto muito, mas não posso", "não consigo ajudar", "não posso atender",
	"lamento, mas não posso",
	// Italian
	"non posso aiutarti", "non posso aiutarla", "non posso aiutare", "non posso fornire", "mi dispiace, ma non posso",
	"mi dispiace, non posso", "non sono in grado di", "non posso rispondere a", "non posso soddisfare",
	// Dutch
	"ik kan je daar niet mee helpen", "ik kan u daar niet mee helpen", "ik kan je daar niet bij helpen",
	"ik kan u daar niet bij helpen", "ik kan je niet helpen", "ik kan u niet helpen", "daar kan ik je niet mee helpen",
	"daar kan ik u niet mee helpen", "het spijt me, maar ik kan", "sorry, maar ik kan", "ik ben niet in staat",
	"daar kan ik niet mee helpen",
	// Chinese (simplified and traditional)
	"我不能帮助", "我无法帮助", "我无法提供", "我不能提供", "我无法协助", "我不能协助", "我无法满足", "我不能满足",
	"我无法回答", "我不能回答", "无法为您提供", "无法协助您", "我無法提供", "我無法協助", "我無法幫助", "我不能幫助",
	"無法為您提供", "我无法帮你", "我不能帮你", "我無法幫你",
	// Japanese
	"お手伝いできません", "お応えできません", "お答えできません", "ご要望にはお応え", "お手伝いすることはできません",
	"お答えすることはできません", "対応することはできません", "手伝うことはできません", "提供することはできません",
	"ご提供できません", "お役に立てません",
}
