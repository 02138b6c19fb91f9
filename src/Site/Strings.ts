/**
 * The words the reader site puts around posts (navigation, pagers, headings, notices), in the
 * site's language. A blog written in German showed "Older posts", "min read" and "Skip to
 * content" whatever `SITE_LANGUAGE` said, and an Arabic one was laid out left to right.
 *
 * `stringsFor` picks a catalog by the language subtag of `SITE_LANGUAGE` (`pt-BR` and `pt-PT` read
 * `pt`, `zh-Hant-TW` reads `zh`), else English; the direction comes from the language itself
 * (`Intl.Locale`'s text info), so a right-to-left language without a catalog of its own is still
 * laid out right to left. Dates are not here: `Intl.DateTimeFormat` writes them (`formatDate`).
 */

export interface Strings {
  readonly skipToContent: string
  /** The header's link to the home page. */
  readonly posts: string
  /** `aria-label` of the header's navigation. */
  readonly siteNavigation: string
  /** The search field's placeholder and label. */
  readonly searchPosts: string
  /** The search button, and the search page's title when nothing was searched. */
  readonly search: string
  readonly subscribe: string
  /** `aria-label` of a post's tag list. */
  readonly tags: string
  readonly minutesToRead: (minutes: number) => string
  /** `aria-label` of a pager. */
  readonly pages: string
  readonly page: (page: number) => string
  /** A title with its page number after it: "Posts tagged “rust” (page 2)". */
  readonly titleOnPage: (title: string, page: number) => string
  readonly tableOfContents: string
  /** The table of contents' heading. */
  readonly contents: string
  /** `aria-label` of the previous / next post links. */
  readonly morePosts: string
  readonly previousPost: string
  readonly nextPost: string
  readonly postsTagged: (tag: string) => string
  readonly postsTaggedOn: (tag: string, site: string) => string
  readonly followTag: string
  readonly allPosts: string
  readonly nothingPublished: string
  readonly newerPosts: string
  readonly olderPosts: string
  /** Before a post's date of update. */
  readonly updated: string
  readonly byAuthors: (authors: string) => string
  readonly resultsFor: (query: string) => string
  readonly searchThePostsOf: (site: string) => string
  readonly noPostsMatch: (query: string) => string
  readonly mostRelevantFirst: string
  readonly betterMatches: string
  readonly moreResults: string
  readonly typeToSearch: string
  readonly searchAtMost: (characters: number) => string
  readonly searchUnavailable: string
  readonly backToAllPosts: string
  readonly notFound: string
  readonly pageNotFound: string
  readonly methodNotAllowed: string
  readonly unavailable: string
  readonly somethingWentWrong: string
}

const english: Strings = {
  skipToContent: "Skip to content",
  posts: "Posts",
  siteNavigation: "Site",
  searchPosts: "Search posts",
  search: "Search",
  subscribe: "Subscribe:",
  tags: "Tags",
  minutesToRead: (n) => `${n} min read`,
  pages: "Pages",
  page: (n) => `Page ${n}`,
  titleOnPage: (title, n) => `${title} (page ${n})`,
  tableOfContents: "Table of contents",
  contents: "Contents",
  morePosts: "More posts",
  previousPost: "Previous",
  nextPost: "Next",
  postsTagged: (tag) => `Posts tagged “${tag}”`,
  postsTaggedOn: (tag, site) => `Posts tagged “${tag}” on ${site}`,
  followTag: "Follow this tag",
  allPosts: "All posts",
  nothingPublished: "Nothing published yet.",
  newerPosts: "Newer posts",
  olderPosts: "Older posts",
  updated: "updated",
  byAuthors: (authors) => `by ${authors}`,
  resultsFor: (q) => `Results for “${q}”`,
  searchThePostsOf: (site) => `Search the posts of ${site}`,
  noPostsMatch: (q) => `No posts match “${q}”.`,
  mostRelevantFirst: "Most relevant first.",
  betterMatches: "Better matches",
  moreResults: "More results",
  typeToSearch: "Type a few words to search the posts.",
  searchAtMost: (n) => `Search for at most ${n} characters.`,
  searchUnavailable: "Search is not available on this blog.",
  backToAllPosts: "Back to all posts",
  notFound: "Not found",
  pageNotFound: "Page not found",
  methodNotAllowed: "Method not allowed",
  unavailable: "Unavailable",
  somethingWentWrong: "Something went wrong"
}

const german: Strings = {
  skipToContent: "Zum Inhalt springen",
  posts: "Beiträge",
  siteNavigation: "Website",
  searchPosts: "Beiträge durchsuchen",
  search: "Suchen",
  subscribe: "Abonnieren:",
  tags: "Schlagwörter",
  minutesToRead: (n) => `${n} Min. Lesezeit`,
  pages: "Seiten",
  page: (n) => `Seite ${n}`,
  titleOnPage: (title, n) => `${title} (Seite ${n})`,
  tableOfContents: "Inhaltsverzeichnis",
  contents: "Inhalt",
  morePosts: "Weitere Beiträge",
  previousPost: "Vorheriger",
  nextPost: "Nächster",
  postsTagged: (tag) => `Beiträge mit dem Schlagwort „${tag}“`,
  postsTaggedOn: (tag, site) => `Beiträge mit dem Schlagwort „${tag}“ auf ${site}`,
  followTag: "Diesem Schlagwort folgen",
  allPosts: "Alle Beiträge",
  nothingPublished: "Noch nichts veröffentlicht.",
  newerPosts: "Neuere Beiträge",
  olderPosts: "Ältere Beiträge",
  updated: "aktualisiert",
  byAuthors: (authors) => `von ${authors}`,
  resultsFor: (q) => `Ergebnisse für „${q}“`,
  searchThePostsOf: (site) => `Die Beiträge von ${site} durchsuchen`,
  noPostsMatch: (q) => `Keine Beiträge zu „${q}“.`,
  mostRelevantFirst: "Die relevantesten zuerst.",
  betterMatches: "Bessere Treffer",
  moreResults: "Weitere Ergebnisse",
  typeToSearch: "Geben Sie ein paar Wörter ein, um die Beiträge zu durchsuchen.",
  searchAtMost: (n) => `Suchen Sie nach höchstens ${n} Zeichen.`,
  searchUnavailable: "Die Suche ist in diesem Blog nicht verfügbar.",
  backToAllPosts: "Zurück zu allen Beiträgen",
  notFound: "Nicht gefunden",
  pageNotFound: "Seite nicht gefunden",
  methodNotAllowed: "Methode nicht erlaubt",
  unavailable: "Nicht verfügbar",
  somethingWentWrong: "Etwas ist schiefgelaufen"
}

const french: Strings = {
  skipToContent: "Aller au contenu",
  posts: "Articles",
  siteNavigation: "Site",
  searchPosts: "Rechercher dans les articles",
  search: "Rechercher",
  subscribe: "S’abonner :",
  tags: "Étiquettes",
  minutesToRead: (n) => `${n} min de lecture`,
  pages: "Pages",
  page: (n) => `Page ${n}`,
  titleOnPage: (title, n) => `${title} (page ${n})`,
  tableOfContents: "Table des matières",
  contents: "Sommaire",
  morePosts: "Autres articles",
  previousPost: "Précédent",
  nextPost: "Suivant",
  postsTagged: (tag) => `Articles étiquetés « ${tag} »`,
  postsTaggedOn: (tag, site) => `Articles étiquetés « ${tag} » sur ${site}`,
  followTag: "Suivre cette étiquette",
  allPosts: "Tous les articles",
  nothingPublished: "Rien de publié pour l’instant.",
  newerPosts: "Articles plus récents",
  olderPosts: "Articles plus anciens",
  updated: "mis à jour le",
  byAuthors: (authors) => `par ${authors}`,
  resultsFor: (q) => `Résultats pour « ${q} »`,
  searchThePostsOf: (site) => `Rechercher dans les articles de ${site}`,
  noPostsMatch: (q) => `Aucun article ne correspond à « ${q} ».`,
  mostRelevantFirst: "Les plus pertinents d’abord.",
  betterMatches: "Meilleurs résultats",
  moreResults: "Plus de résultats",
  typeToSearch: "Saisissez quelques mots pour rechercher dans les articles.",
  searchAtMost: (n) => `Recherchez au plus ${n} caractères.`,
  searchUnavailable: "La recherche n’est pas disponible sur ce blog.",
  backToAllPosts: "Retour à tous les articles",
  notFound: "Introuvable",
  pageNotFound: "Page introuvable",
  methodNotAllowed: "Méthode non autorisée",
  unavailable: "Indisponible",
  somethingWentWrong: "Une erreur est survenue"
}

const spanish: Strings = {
  skipToContent: "Ir al contenido",
  posts: "Artículos",
  siteNavigation: "Sitio",
  searchPosts: "Buscar artículos",
  search: "Buscar",
  subscribe: "Suscribirse:",
  tags: "Etiquetas",
  minutesToRead: (n) => `${n} min de lectura`,
  pages: "Páginas",
  page: (n) => `Página ${n}`,
  titleOnPage: (title, n) => `${title} (página ${n})`,
  tableOfContents: "Índice",
  contents: "Contenido",
  morePosts: "Más artículos",
  previousPost: "Anterior",
  nextPost: "Siguiente",
  postsTagged: (tag) => `Artículos con la etiqueta «${tag}»`,
  postsTaggedOn: (tag, site) => `Artículos con la etiqueta «${tag}» en ${site}`,
  followTag: "Seguir esta etiqueta",
  allPosts: "Todos los artículos",
  nothingPublished: "Aún no hay nada publicado.",
  newerPosts: "Artículos más recientes",
  olderPosts: "Artículos anteriores",
  updated: "actualizado el",
  byAuthors: (authors) => `por ${authors}`,
  resultsFor: (q) => `Resultados para «${q}»`,
  searchThePostsOf: (site) => `Buscar en los artículos de ${site}`,
  noPostsMatch: (q) => `Ningún artículo coincide con «${q}».`,
  mostRelevantFirst: "Los más relevantes primero.",
  betterMatches: "Mejores coincidencias",
  moreResults: "Más resultados",
  typeToSearch: "Escribe algunas palabras para buscar en los artículos.",
  searchAtMost: (n) => `Busca como máximo ${n} caracteres.`,
  searchUnavailable: "La búsqueda no está disponible en este blog.",
  backToAllPosts: "Volver a todos los artículos",
  notFound: "No encontrado",
  pageNotFound: "Página no encontrada",
  methodNotAllowed: "Método no permitido",
  unavailable: "No disponible",
  somethingWentWrong: "Algo salió mal"
}

const italian: Strings = {
  skipToContent: "Vai al contenuto",
  posts: "Articoli",
  siteNavigation: "Sito",
  searchPosts: "Cerca negli articoli",
  search: "Cerca",
  subscribe: "Iscriviti:",
  tags: "Tag",
  minutesToRead: (n) => `${n} min di lettura`,
  pages: "Pagine",
  page: (n) => `Pagina ${n}`,
  titleOnPage: (title, n) => `${title} (pagina ${n})`,
  tableOfContents: "Indice",
  contents: "Contenuti",
  morePosts: "Altri articoli",
  previousPost: "Precedente",
  nextPost: "Successivo",
  postsTagged: (tag) => `Articoli con il tag “${tag}”`,
  postsTaggedOn: (tag, site) => `Articoli con il tag “${tag}” su ${site}`,
  followTag: "Segui questo tag",
  allPosts: "Tutti gli articoli",
  nothingPublished: "Ancora nessuna pubblicazione.",
  newerPosts: "Articoli più recenti",
  olderPosts: "Articoli meno recenti",
  updated: "aggiornato il",
  byAuthors: (authors) => `di ${authors}`,
  resultsFor: (q) => `Risultati per “${q}”`,
  searchThePostsOf: (site) => `Cerca negli articoli di ${site}`,
  noPostsMatch: (q) => `Nessun articolo corrisponde a “${q}”.`,
  mostRelevantFirst: "I più pertinenti per primi.",
  betterMatches: "Risultati migliori",
  moreResults: "Altri risultati",
  typeToSearch: "Scrivi qualche parola per cercare negli articoli.",
  searchAtMost: (n) => `Cerca al massimo ${n} caratteri.`,
  searchUnavailable: "La ricerca non è disponibile su questo blog.",
  backToAllPosts: "Torna a tutti gli articoli",
  notFound: "Non trovato",
  pageNotFound: "Pagina non trovata",
  methodNotAllowed: "Metodo non consentito",
  unavailable: "Non disponibile",
  somethingWentWrong: "Qualcosa è andato storto"
}

const portuguese: Strings = {
  skipToContent: "Pular para o conteúdo",
  posts: "Artigos",
  siteNavigation: "Site",
  searchPosts: "Pesquisar artigos",
  search: "Pesquisar",
  subscribe: "Assinar:",
  tags: "Etiquetas",
  minutesToRead: (n) => `${n} min de leitura`,
  pages: "Páginas",
  page: (n) => `Página ${n}`,
  titleOnPage: (title, n) => `${title} (página ${n})`,
  tableOfContents: "Índice",
  contents: "Conteúdo",
  morePosts: "Mais artigos",
  previousPost: "Anterior",
  nextPost: "Seguinte",
  postsTagged: (tag) => `Artigos com a etiqueta “${tag}”`,
  postsTaggedOn: (tag, site) => `Artigos com a etiqueta “${tag}” em ${site}`,
  followTag: "Seguir esta etiqueta",
  allPosts: "Todos os artigos",
  nothingPublished: "Nada publicado ainda.",
  newerPosts: "Artigos mais recentes",
  olderPosts: "Artigos mais antigos",
  updated: "atualizado em",
  byAuthors: (authors) => `por ${authors}`,
  resultsFor: (q) => `Resultados para “${q}”`,
  searchThePostsOf: (site) => `Pesquisar nos artigos de ${site}`,
  noPostsMatch: (q) => `Nenhum artigo corresponde a “${q}”.`,
  mostRelevantFirst: "Os mais relevantes primeiro.",
  betterMatches: "Melhores resultados",
  moreResults: "Mais resultados",
  typeToSearch: "Digite algumas palavras para pesquisar nos artigos.",
  searchAtMost: (n) => `Pesquise no máximo ${n} caracteres.`,
  searchUnavailable: "A pesquisa não está disponível neste blog.",
  backToAllPosts: "Voltar a todos os artigos",
  notFound: "Não encontrado",
  pageNotFound: "Página não encontrada",
  methodNotAllowed: "Método não permitido",
  unavailable: "Indisponível",
  somethingWentWrong: "Algo deu errado"
}

const dutch: Strings = {
  skipToContent: "Naar de inhoud",
  posts: "Berichten",
  siteNavigation: "Website",
  searchPosts: "Berichten doorzoeken",
  search: "Zoeken",
  subscribe: "Abonneren:",
  tags: "Tags",
  minutesToRead: (n) => `${n} min lezen`,
  pages: "Pagina’s",
  page: (n) => `Pagina ${n}`,
  titleOnPage: (title, n) => `${title} (pagina ${n})`,
  tableOfContents: "Inhoudsopgave",
  contents: "Inhoud",
  morePosts: "Meer berichten",
  previousPost: "Vorige",
  nextPost: "Volgende",
  postsTagged: (tag) => `Berichten met de tag ‘${tag}’`,
  postsTaggedOn: (tag, site) => `Berichten met de tag ‘${tag}’ op ${site}`,
  followTag: "Deze tag volgen",
  allPosts: "Alle berichten",
  nothingPublished: "Nog niets gepubliceerd.",
  newerPosts: "Nieuwere berichten",
  olderPosts: "Oudere berichten",
  updated: "bijgewerkt op",
  byAuthors: (authors) => `door ${authors}`,
  resultsFor: (q) => `Resultaten voor ‘${q}’`,
  searchThePostsOf: (site) => `De berichten van ${site} doorzoeken`,
  noPostsMatch: (q) => `Geen berichten gevonden voor ‘${q}’.`,
  mostRelevantFirst: "Meest relevante eerst.",
  betterMatches: "Betere resultaten",
  moreResults: "Meer resultaten",
  typeToSearch: "Typ een paar woorden om de berichten te doorzoeken.",
  searchAtMost: (n) => `Zoek op hooguit ${n} tekens.`,
  searchUnavailable: "Zoeken is niet beschikbaar op deze blog.",
  backToAllPosts: "Terug naar alle berichten",
  notFound: "Niet gevonden",
  pageNotFound: "Pagina niet gevonden",
  methodNotAllowed: "Methode niet toegestaan",
  unavailable: "Niet beschikbaar",
  somethingWentWrong: "Er is iets misgegaan"
}

const russian: Strings = {
  skipToContent: "Перейти к содержимому",
  posts: "Записи",
  siteNavigation: "Сайт",
  searchPosts: "Поиск по записям",
  search: "Найти",
  subscribe: "Подписаться:",
  tags: "Метки",
  minutesToRead: (n) => `${n} мин чтения`,
  pages: "Страницы",
  page: (n) => `Страница ${n}`,
  titleOnPage: (title, n) => `${title} (страница ${n})`,
  tableOfContents: "Оглавление",
  contents: "Содержание",
  morePosts: "Другие записи",
  previousPost: "Предыдущая",
  nextPost: "Следующая",
  postsTagged: (tag) => `Записи с меткой «${tag}»`,
  postsTaggedOn: (tag, site) => `Записи с меткой «${tag}» на ${site}`,
  followTag: "Следить за меткой",
  allPosts: "Все записи",
  nothingPublished: "Пока ничего не опубликовано.",
  newerPosts: "Новые записи",
  olderPosts: "Старые записи",
  updated: "обновлено",
  byAuthors: (authors) => `автор: ${authors}`,
  resultsFor: (q) => `Результаты по запросу «${q}»`,
  searchThePostsOf: (site) => `Поиск по записям ${site}`,
  noPostsMatch: (q) => `По запросу «${q}» ничего не найдено.`,
  mostRelevantFirst: "Сначала самые подходящие.",
  betterMatches: "Более подходящие",
  moreResults: "Ещё результаты",
  typeToSearch: "Введите несколько слов для поиска по записям.",
  searchAtMost: (n) => `Запрос не длиннее ${n} символов.`,
  searchUnavailable: "Поиск в этом блоге недоступен.",
  backToAllPosts: "Ко всем записям",
  notFound: "Не найдено",
  pageNotFound: "Страница не найдена",
  methodNotAllowed: "Метод не разрешён",
  unavailable: "Недоступно",
  somethingWentWrong: "Что-то пошло не так"
}

const japanese: Strings = {
  skipToContent: "本文へ移動",
  posts: "記事",
  siteNavigation: "サイト",
  searchPosts: "記事を検索",
  search: "検索",
  subscribe: "購読：",
  tags: "タグ",
  minutesToRead: (n) => `${n}分で読めます`,
  pages: "ページ",
  page: (n) => `${n}ページ目`,
  titleOnPage: (title, n) => `${title}（${n}ページ目）`,
  tableOfContents: "目次",
  contents: "目次",
  morePosts: "他の記事",
  previousPost: "前の記事",
  nextPost: "次の記事",
  postsTagged: (tag) => `タグ「${tag}」の記事`,
  postsTaggedOn: (tag, site) => `${site}のタグ「${tag}」の記事`,
  followTag: "このタグを購読",
  allPosts: "すべての記事",
  nothingPublished: "まだ記事はありません。",
  newerPosts: "新しい記事",
  olderPosts: "古い記事",
  updated: "更新：",
  byAuthors: (authors) => `著者：${authors}`,
  resultsFor: (q) => `「${q}」の検索結果`,
  searchThePostsOf: (site) => `${site}の記事を検索`,
  noPostsMatch: (q) => `「${q}」に一致する記事はありません。`,
  mostRelevantFirst: "関連性の高い順。",
  betterMatches: "より関連性の高い結果",
  moreResults: "さらに表示",
  typeToSearch: "記事を検索するには語句を入力してください。",
  searchAtMost: (n) => `検索語は${n}文字以内にしてください。`,
  searchUnavailable: "このブログでは検索を利用できません。",
  backToAllPosts: "すべての記事へ戻る",
  notFound: "見つかりません",
  pageNotFound: "ページが見つかりません",
  methodNotAllowed: "許可されていないメソッドです",
  unavailable: "利用できません",
  somethingWentWrong: "問題が発生しました"
}

const chinese: Strings = {
  skipToContent: "跳到正文",
  posts: "文章",
  siteNavigation: "网站",
  searchPosts: "搜索文章",
  search: "搜索",
  subscribe: "订阅：",
  tags: "标签",
  minutesToRead: (n) => `阅读约 ${n} 分钟`,
  pages: "分页",
  page: (n) => `第 ${n} 页`,
  titleOnPage: (title, n) => `${title}（第 ${n} 页）`,
  tableOfContents: "目录",
  contents: "目录",
  morePosts: "更多文章",
  previousPost: "上一篇",
  nextPost: "下一篇",
  postsTagged: (tag) => `标签为“${tag}”的文章`,
  postsTaggedOn: (tag, site) => `${site}中标签为“${tag}”的文章`,
  followTag: "关注此标签",
  allPosts: "全部文章",
  nothingPublished: "尚未发布任何内容。",
  newerPosts: "较新的文章",
  olderPosts: "较早的文章",
  updated: "更新于",
  byAuthors: (authors) => `作者：${authors}`,
  resultsFor: (q) => `“${q}”的搜索结果`,
  searchThePostsOf: (site) => `搜索${site}的文章`,
  noPostsMatch: (q) => `没有与“${q}”匹配的文章。`,
  mostRelevantFirst: "按相关度排序。",
  betterMatches: "更相关的结果",
  moreResults: "更多结果",
  typeToSearch: "输入几个词来搜索文章。",
  searchAtMost: (n) => `搜索内容最多 ${n} 个字符。`,
  searchUnavailable: "此博客不提供搜索。",
  backToAllPosts: "返回全部文章",
  notFound: "未找到",
  pageNotFound: "页面未找到",
  methodNotAllowed: "不允许的请求方法",
  unavailable: "暂不可用",
  somethingWentWrong: "出错了"
}

/** Catalogs by ISO 639 language code. */
const CATALOGS: Readonly<Record<string, Strings>> = {
  en: english,
  de: german,
  es: spanish,
  fr: french,
  it: italian,
  ja: japanese,
  nl: dutch,
  pt: portuguese,
  ru: russian,
  zh: chinese
}

export interface SiteWords {
  readonly strings: Strings
  /** `<html dir>`: the language's writing direction. */
  readonly direction: "ltr" | "rtl"
  /** `og:locale` (`ogLocale`). */
  readonly ogLocale: string | undefined
}

/**
 * OpenGraph's `og:locale` for a BCP 47 `language`: `language_TERRITORY` (`zh-Hant-TW` is `zh_TW`,
 * `pt-br` is `pt_BR`), read by `Intl.Locale` so a script or variant subtag is not taken for the
 * territory, as replacing the first "-" did (`zh_Hant-TW`, `sr_Latn`). A bare language (`en`,
 * `fr`, `sr-Latn`) takes its likely territory (`en_US`, `fr_FR`, `sr_RS`): the format needs one,
 * and a consumer reading no tag assumes `en_US`, wrong for a French site. `und` (no language)
 * and an unreadable tag: `undefined`, no tag.
 */
export const ogLocale = (language: string): string | undefined => {
  try {
    const locale = new Intl.Locale(language)
    // Node 20 reads "und" as no language at all (`language` undefined, whatever the typings say).
    if (!locale.language || locale.language === "und") return undefined
    const region = locale.region ?? locale.maximize().region
    return region === undefined ? undefined : `${locale.language}_${region}`
  } catch {
    return undefined
  }
}

const localeOf = (language: string): Intl.Locale | undefined => {
  try {
    return new Intl.Locale(language)
  } catch {
    return undefined
  }
}

const wordsByLanguage = new Map<string, SiteWords>()

/**
 * The words and direction of pages in `language` (a BCP 47 tag, as `SITE_LANGUAGE` is checked to
 * be), made once per language: pages and feeds ask on every render.
 */
export const stringsFor = (language: string): SiteWords => {
  let words = wordsByLanguage.get(language)
  if (words === undefined) {
    words = wordsIn(language)
    wordsByLanguage.set(language, words)
  }
  return words
}

const wordsIn = (language: string): SiteWords => {
  const locale = localeOf(language)
  // Node 20 has `textInfo` as a getter (the proposal's first shape); later versions a method.
  const info = locale as (Intl.Locale & { textInfo?: { direction?: string }; getTextInfo?: () => { direction?: string } }) | undefined
  const direction = (info?.getTextInfo?.() ?? info?.textInfo)?.direction === "rtl" ? "rtl" : "ltr"
  return { strings: CATALOGS[locale?.language?.toLowerCase() ?? ""] ?? english, direction, ogLocale: ogLocale(language) }
}
