/**
 * The words the reader site puts around posts (navigation, pagers, headings, notices) and on its
 * 400, 404, 405, 500 and 503 pages, in the site's language. A blog written in German showed "Older
 * posts", "min read" and "Skip to content" whatever `SITE_LANGUAGE` said, and an Arabic one was
 * laid out left to right; its error pages said why in English. The API's JSON stays English.
 *
 * `stringsFor` picks a catalog by the language subtag of `SITE_LANGUAGE` (`pt-BR` and `pt-PT` read
 * `pt`), else English; Chinese by its script too (`traditionalChinese` for `zh-Hant`, `zh-TW`,
 * `zh-HK`, `zh-MO`: `catalogOf`); the direction comes from the language itself
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
  /** A search of more different words than a query may have (MAX_SEARCH_WORDS). */
  readonly searchAtMostWords: (words: number) => string
  readonly searchUnavailable: string
  readonly backToAllPosts: string
  readonly notFound: string
  readonly pageNotFound: string
  readonly methodNotAllowed: string
  /** A 400's title and heading. */
  readonly badRequest: string
  readonly unavailable: string
  readonly somethingWentWrong: string
  // What the 400, 404, 405, 500 and 503 pages say under their heading.
  /** No public post at the slug (a draft's slug too: drafts do not exist for readers). */
  readonly noPostAt: (slug: string) => string
  /** A page of the listing past its last. */
  readonly noPage: (page: number) => string
  /** A search whose `q` does not percent-decode to text (`/search?q=%FF`). */
  readonly searchUnreadable: string
  /** A page number that is not one (`/page/x`, `/page/02`). */
  readonly noSuchPage: string
  /** A tag no public post carries: its page or feed. */
  readonly nothingTagged: (tag: string) => string
  /** A tag's page past its last. */
  readonly nothingTaggedOnPage: (tag: string, page: number) => string
  /** A tag that cannot be one (only spaces). */
  readonly noSuchTag: string
  /** A sitemap file whose number is not one. */
  readonly noSuchSitemap: string
  readonly noSitemapOfPosts: (file: number) => string
  readonly noSitemapOfPages: (file: number) => string
  /** A page of search results past the last. */
  readonly noResultsPage: (page: number) => string
  /** A page of search results past the first `results` a search has pages for. */
  readonly resultsEndAt: (page: number, results: number) => string
  /** An address no route serves and no alias leads from. */
  readonly nothingHere: string
  /** A 405: `method` is not one `path` takes; `allowed` are (the `Allow` header's). */
  readonly notAMethodOf: (method: string, path: string, allowed: ReadonlyArray<string>) => string
  /** A 503: the database is there, but too busy to answer in time. */
  readonly databaseBusy: string
  /** A 503: the database cannot be reached. */
  readonly databaseUnreachable: string
  /** A 500: the database refused what was asked of it, which trying again will not mend. */
  readonly ourFault: string
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
  searchAtMostWords: (n) => `Search for at most ${n} different words.`,
  searchUnavailable: "Search is not available on this blog.",
  backToAllPosts: "Back to all posts",
  notFound: "Not found",
  pageNotFound: "Page not found",
  methodNotAllowed: "Method not allowed",
  badRequest: "Bad request",
  unavailable: "Unavailable",
  somethingWentWrong: "Something went wrong",
  noPostAt: (slug) => `There is no post at “${slug}”.`,
  noPage: (n) => `There is no page ${n}.`,
  noSuchPage: "There is no such page.",
  searchUnreadable: "The search could not be read: its address holds bytes that are not UTF-8 text.",
  nothingTagged: (tag) => `Nothing is published under the tag “${tag}”.`,
  nothingTaggedOnPage: (tag, n) => `Nothing is published under the tag “${tag}” on page ${n}.`,
  noSuchTag: "There is no such tag.",
  noSuchSitemap: "There is no such sitemap.",
  noSitemapOfPosts: (n) => `There is no sitemap file ${n} of posts.`,
  noSitemapOfPages: (n) => `There is no sitemap file ${n} of pages.`,
  noResultsPage: (n) => `There is no page ${n} of results.`,
  resultsEndAt: (n, results) =>
    `There is no page ${n} of results: a search shows its first ${results.toLocaleString("en")} results. Add words to narrow it.`,
  nothingHere: "There is nothing at this address.",
  notAMethodOf: (method, path, allowed) => `${method} is not a method of ${path}: it takes ${allowed.join(", ")}.`,
  databaseBusy: "The blog is busy right now. Please try again in a moment.",
  databaseUnreachable: "The blog cannot reach its database right now. Please try again in a moment.",
  ourFault: "Something went wrong on our side, and this page could not be shown. Please try again later."
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
  searchAtMostWords: (n) => `Suchen Sie nach höchstens ${n} verschiedenen Wörtern.`,
  searchUnavailable: "Die Suche ist in diesem Blog nicht verfügbar.",
  backToAllPosts: "Zurück zu allen Beiträgen",
  notFound: "Nicht gefunden",
  pageNotFound: "Seite nicht gefunden",
  methodNotAllowed: "Methode nicht erlaubt",
  badRequest: "Ungültige Anfrage",
  unavailable: "Nicht verfügbar",
  somethingWentWrong: "Etwas ist schiefgelaufen",
  noPostAt: (slug) => `Unter „${slug}“ gibt es keinen Beitrag.`,
  noPage: (n) => `Es gibt keine Seite ${n}.`,
  noSuchPage: "Diese Seite gibt es nicht.",
  searchUnreadable: "Die Suche konnte nicht gelesen werden: Ihre Adresse enthält Bytes, die kein UTF-8-Text sind.",
  nothingTagged: (tag) => `Mit dem Schlagwort „${tag}“ ist nichts veröffentlicht.`,
  nothingTaggedOnPage: (tag, n) => `Mit dem Schlagwort „${tag}“ ist auf Seite ${n} nichts veröffentlicht.`,
  noSuchTag: "Dieses Schlagwort gibt es nicht.",
  noSuchSitemap: "Diese Sitemap gibt es nicht.",
  noSitemapOfPosts: (n) => `Es gibt keine Sitemap-Datei ${n} der Beiträge.`,
  noSitemapOfPages: (n) => `Es gibt keine Sitemap-Datei ${n} der Seiten.`,
  noResultsPage: (n) => `Es gibt keine Ergebnisseite ${n}.`,
  resultsEndAt: (n, results) =>
    `Es gibt keine Ergebnisseite ${n}: Eine Suche zeigt nur ihre ersten ${results.toLocaleString("de")} Ergebnisse. Fügen Sie Wörter hinzu, um sie einzugrenzen.`,
  nothingHere: "Unter dieser Adresse gibt es nichts.",
  notAMethodOf: (method, path, allowed) => `${path} nimmt die Methode ${method} nicht an, nur ${allowed.join(", ")}.`,
  databaseBusy: "Der Blog ist gerade ausgelastet. Bitte versuchen Sie es gleich noch einmal.",
  databaseUnreachable: "Der Blog erreicht seine Datenbank gerade nicht. Bitte versuchen Sie es gleich noch einmal.",
  ourFault: "Bei uns ist etwas schiefgelaufen, und diese Seite konnte nicht angezeigt werden. Bitte versuchen Sie es später noch einmal."
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
  searchAtMostWords: (n) => `Recherchez au plus ${n} mots différents.`,
  searchUnavailable: "La recherche n’est pas disponible sur ce blog.",
  backToAllPosts: "Retour à tous les articles",
  notFound: "Introuvable",
  pageNotFound: "Page introuvable",
  methodNotAllowed: "Méthode non autorisée",
  badRequest: "Requête invalide",
  unavailable: "Indisponible",
  somethingWentWrong: "Une erreur est survenue",
  noPostAt: (slug) => `Il n’y a aucun article à l’adresse « ${slug} ».`,
  noPage: (n) => `La page ${n} n’existe pas.`,
  noSuchPage: "Cette page n’existe pas.",
  searchUnreadable: "La recherche n’a pas pu être lue : son adresse contient des octets qui ne sont pas du texte UTF-8.",
  nothingTagged: (tag) => `Rien n’est publié sous l’étiquette « ${tag} ».`,
  nothingTaggedOnPage: (tag, n) => `Rien n’est publié sous l’étiquette « ${tag} » à la page ${n}.`,
  noSuchTag: "Cette étiquette n’existe pas.",
  noSuchSitemap: "Ce plan du site n’existe pas.",
  noSitemapOfPosts: (n) => `Le fichier ${n} du plan du site des articles n’existe pas.`,
  noSitemapOfPages: (n) => `Le fichier ${n} du plan du site des pages n’existe pas.`,
  noResultsPage: (n) => `La page ${n} des résultats n’existe pas.`,
  resultsEndAt: (n, results) =>
    `La page ${n} des résultats n’existe pas : une recherche n’affiche que ses ${results.toLocaleString("fr")} premiers résultats. Ajoutez des mots pour l’affiner.`,
  nothingHere: "Il n’y a rien à cette adresse.",
  notAMethodOf: (method, path, allowed) => `${path} n’accepte pas la méthode ${method}, seulement ${allowed.join(", ")}.`,
  databaseBusy: "Le blog est surchargé pour le moment. Veuillez réessayer dans un instant.",
  databaseUnreachable: "Le blog ne parvient pas à joindre sa base de données pour le moment. Veuillez réessayer dans un instant.",
  ourFault: "Une erreur s’est produite de notre côté et cette page n’a pas pu être affichée. Veuillez réessayer plus tard."
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
  searchAtMostWords: (n) => `Busca como máximo ${n} palabras distintas.`,
  searchUnavailable: "La búsqueda no está disponible en este blog.",
  backToAllPosts: "Volver a todos los artículos",
  notFound: "No encontrado",
  pageNotFound: "Página no encontrada",
  methodNotAllowed: "Método no permitido",
  badRequest: "Solicitud incorrecta",
  unavailable: "No disponible",
  somethingWentWrong: "Algo salió mal",
  noPostAt: (slug) => `No hay ningún artículo en «${slug}».`,
  noPage: (n) => `No existe la página ${n}.`,
  noSuchPage: "Esta página no existe.",
  searchUnreadable: "No se pudo leer la búsqueda: su dirección contiene bytes que no son texto UTF-8.",
  nothingTagged: (tag) => `No hay nada publicado con la etiqueta «${tag}».`,
  nothingTaggedOnPage: (tag, n) => `No hay nada publicado con la etiqueta «${tag}» en la página ${n}.`,
  noSuchTag: "Esta etiqueta no existe.",
  noSuchSitemap: "Este mapa del sitio no existe.",
  noSitemapOfPosts: (n) => `No existe el archivo ${n} del mapa del sitio de artículos.`,
  noSitemapOfPages: (n) => `No existe el archivo ${n} del mapa del sitio de páginas.`,
  noResultsPage: (n) => `No existe la página ${n} de resultados.`,
  resultsEndAt: (n, results) =>
    `No existe la página ${n} de resultados: una búsqueda solo muestra sus primeros ${results.toLocaleString("es")} resultados. Añade palabras para acotarla.`,
  nothingHere: "No hay nada en esta dirección.",
  notAMethodOf: (method, path, allowed) => `${path} no admite el método ${method}, solo ${allowed.join(", ")}.`,
  databaseBusy: "El blog está saturado en este momento. Vuelve a intentarlo en unos instantes.",
  databaseUnreachable: "El blog no puede conectar con su base de datos en este momento. Vuelve a intentarlo en unos instantes.",
  ourFault: "Algo salió mal por nuestra parte y no se pudo mostrar esta página. Vuelve a intentarlo más tarde."
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
  searchAtMostWords: (n) => `Cerca al massimo ${n} parole diverse.`,
  searchUnavailable: "La ricerca non è disponibile su questo blog.",
  backToAllPosts: "Torna a tutti gli articoli",
  notFound: "Non trovato",
  pageNotFound: "Pagina non trovata",
  methodNotAllowed: "Metodo non consentito",
  badRequest: "Richiesta non valida",
  unavailable: "Non disponibile",
  somethingWentWrong: "Qualcosa è andato storto",
  noPostAt: (slug) => `Non c’è nessun articolo all’indirizzo “${slug}”.`,
  noPage: (n) => `La pagina ${n} non esiste.`,
  noSuchPage: "Questa pagina non esiste.",
  searchUnreadable: "Impossibile leggere la ricerca: il suo indirizzo contiene byte che non sono testo UTF-8.",
  nothingTagged: (tag) => `Non è stato pubblicato nulla con il tag “${tag}”.`,
  nothingTaggedOnPage: (tag, n) => `Non è stato pubblicato nulla con il tag “${tag}” a pagina ${n}.`,
  noSuchTag: "Questo tag non esiste.",
  noSuchSitemap: "Questa mappa del sito non esiste.",
  noSitemapOfPosts: (n) => `Il file ${n} della mappa del sito degli articoli non esiste.`,
  noSitemapOfPages: (n) => `Il file ${n} della mappa del sito delle pagine non esiste.`,
  noResultsPage: (n) => `La pagina ${n} dei risultati non esiste.`,
  resultsEndAt: (n, results) =>
    `La pagina ${n} dei risultati non esiste: una ricerca mostra solo i primi ${results.toLocaleString("it")} risultati. Aggiungi parole per restringerla.`,
  nothingHere: "Non c’è nulla a questo indirizzo.",
  notAMethodOf: (method, path, allowed) => `${path} non accetta il metodo ${method}, solo ${allowed.join(", ")}.`,
  databaseBusy: "Il blog è sovraccarico in questo momento. Riprova tra poco.",
  databaseUnreachable: "Il blog non riesce a raggiungere il suo database in questo momento. Riprova tra poco.",
  ourFault: "Qualcosa è andato storto da parte nostra e non è stato possibile mostrare questa pagina. Riprova più tardi."
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
  searchAtMostWords: (n) => `Pesquise no máximo ${n} palavras diferentes.`,
  searchUnavailable: "A pesquisa não está disponível neste blog.",
  backToAllPosts: "Voltar a todos os artigos",
  notFound: "Não encontrado",
  pageNotFound: "Página não encontrada",
  methodNotAllowed: "Método não permitido",
  badRequest: "Pedido inválido",
  unavailable: "Indisponível",
  somethingWentWrong: "Algo deu errado",
  noPostAt: (slug) => `Não há nenhum artigo em “${slug}”.`,
  noPage: (n) => `A página ${n} não existe.`,
  noSuchPage: "Esta página não existe.",
  searchUnreadable: "Não foi possível ler a pesquisa: o seu endereço contém bytes que não são texto UTF-8.",
  nothingTagged: (tag) => `Não há nada publicado com a etiqueta “${tag}”.`,
  nothingTaggedOnPage: (tag, n) => `Não há nada publicado com a etiqueta “${tag}” na página ${n}.`,
  noSuchTag: "Esta etiqueta não existe.",
  noSuchSitemap: "Este mapa do site não existe.",
  noSitemapOfPosts: (n) => `O arquivo ${n} do mapa do site dos artigos não existe.`,
  noSitemapOfPages: (n) => `O arquivo ${n} do mapa do site das páginas não existe.`,
  noResultsPage: (n) => `A página ${n} dos resultados não existe.`,
  resultsEndAt: (n, results) =>
    `A página ${n} dos resultados não existe: uma pesquisa mostra apenas os primeiros ${results.toLocaleString("pt")} resultados. Acrescente palavras para restringi-la.`,
  nothingHere: "Não há nada neste endereço.",
  notAMethodOf: (method, path, allowed) => `${path} não aceita o método ${method}, apenas ${allowed.join(", ")}.`,
  databaseBusy: "O blog está sobrecarregado no momento. Tente novamente daqui a pouco.",
  databaseUnreachable: "O blog não consegue acessar o banco de dados no momento. Tente novamente daqui a pouco.",
  ourFault: "Algo deu errado do nosso lado e não foi possível exibir esta página. Tente novamente mais tarde."
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
  searchAtMostWords: (n) => `Zoek op hooguit ${n} verschillende woorden.`,
  searchUnavailable: "Zoeken is niet beschikbaar op deze blog.",
  backToAllPosts: "Terug naar alle berichten",
  notFound: "Niet gevonden",
  pageNotFound: "Pagina niet gevonden",
  methodNotAllowed: "Methode niet toegestaan",
  badRequest: "Ongeldig verzoek",
  unavailable: "Niet beschikbaar",
  somethingWentWrong: "Er is iets misgegaan",
  noPostAt: (slug) => `Er is geen bericht op ‘${slug}’.`,
  noPage: (n) => `Er is geen pagina ${n}.`,
  noSuchPage: "Deze pagina bestaat niet.",
  searchUnreadable: "De zoekopdracht kon niet worden gelezen: het adres bevat bytes die geen UTF-8-tekst zijn.",
  nothingTagged: (tag) => `Er is niets gepubliceerd met de tag ‘${tag}’.`,
  nothingTaggedOnPage: (tag, n) => `Er is niets gepubliceerd met de tag ‘${tag}’ op pagina ${n}.`,
  noSuchTag: "Deze tag bestaat niet.",
  noSuchSitemap: "Deze sitemap bestaat niet.",
  noSitemapOfPosts: (n) => `Er is geen sitemapbestand ${n} met berichten.`,
  noSitemapOfPages: (n) => `Er is geen sitemapbestand ${n} met pagina’s.`,
  noResultsPage: (n) => `Er is geen pagina ${n} met resultaten.`,
  resultsEndAt: (n, results) =>
    `Er is geen pagina ${n} met resultaten: een zoekopdracht toont alleen de eerste ${results.toLocaleString("nl")} resultaten. Voeg woorden toe om gerichter te zoeken.`,
  nothingHere: "Er is niets op dit adres.",
  notAMethodOf: (method, path, allowed) => `${path} accepteert de methode ${method} niet, alleen ${allowed.join(", ")}.`,
  databaseBusy: "De blog heeft het op dit moment te druk. Probeer het zo meteen opnieuw.",
  databaseUnreachable: "De blog kan zijn database op dit moment niet bereiken. Probeer het zo meteen opnieuw.",
  ourFault: "Er is aan onze kant iets misgegaan, waardoor deze pagina niet kon worden getoond. Probeer het later opnieuw."
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
  searchAtMostWords: (n) => `Запрос не более чем из ${n} разных слов.`,
  searchUnavailable: "Поиск в этом блоге недоступен.",
  backToAllPosts: "Ко всем записям",
  notFound: "Не найдено",
  pageNotFound: "Страница не найдена",
  methodNotAllowed: "Метод не разрешён",
  badRequest: "Неверный запрос",
  unavailable: "Недоступно",
  somethingWentWrong: "Что-то пошло не так",
  noPostAt: (slug) => `По адресу «${slug}» записи нет.`,
  noPage: (n) => `Страницы ${n} нет.`,
  noSuchPage: "Такой страницы нет.",
  searchUnreadable: "Не удалось прочитать запрос: в адресе есть байты, которые не являются текстом UTF-8.",
  nothingTagged: (tag) => `С меткой «${tag}» ничего не опубликовано.`,
  nothingTaggedOnPage: (tag, n) => `С меткой «${tag}» на странице ${n} ничего не опубликовано.`,
  noSuchTag: "Такой метки нет.",
  noSuchSitemap: "Такой карты сайта нет.",
  noSitemapOfPosts: (n) => `Файла ${n} карты сайта для записей нет.`,
  noSitemapOfPages: (n) => `Файла ${n} карты сайта для страниц нет.`,
  noResultsPage: (n) => `Страницы ${n} в результатах поиска нет.`,
  resultsEndAt: (n, results) =>
    `Страницы ${n} в результатах поиска нет: поиск показывает только первые результаты, не больше ${results.toLocaleString("ru")}. Добавьте слова, чтобы уточнить запрос.`,
  nothingHere: "По этому адресу ничего нет.",
  notAMethodOf: (method, path, allowed) => `Адрес ${path} не принимает метод ${method}, только ${allowed.join(", ")}.`,
  databaseBusy: "Блог сейчас перегружен. Попробуйте ещё раз чуть позже.",
  databaseUnreachable: "Блог сейчас не может связаться со своей базой данных. Попробуйте ещё раз чуть позже.",
  ourFault: "У нас что-то пошло не так, и эту страницу не удалось показать. Попробуйте ещё раз позже."
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
  searchAtMostWords: (n) => `検索語は異なる${n}語以内にしてください。`,
  searchUnavailable: "このブログでは検索を利用できません。",
  backToAllPosts: "すべての記事へ戻る",
  notFound: "見つかりません",
  pageNotFound: "ページが見つかりません",
  methodNotAllowed: "許可されていないメソッドです",
  badRequest: "不正なリクエスト",
  unavailable: "利用できません",
  somethingWentWrong: "問題が発生しました",
  noPostAt: (slug) => `アドレス「${slug}」の記事はありません。`,
  noPage: (n) => `${n}ページ目はありません。`,
  noSuchPage: "そのようなページはありません。",
  searchUnreadable: "検索語を読み取れませんでした。アドレスに UTF-8 のテキストではないバイトが含まれています。",
  nothingTagged: (tag) => `タグ「${tag}」の記事は公開されていません。`,
  nothingTaggedOnPage: (tag, n) => `タグ「${tag}」の記事の${n}ページ目はありません。`,
  noSuchTag: "そのようなタグはありません。",
  noSuchSitemap: "そのようなサイトマップはありません。",
  noSitemapOfPosts: (n) => `記事のサイトマップのファイル${n}はありません。`,
  noSitemapOfPages: (n) => `ページのサイトマップのファイル${n}はありません。`,
  noResultsPage: (n) => `検索結果の${n}ページ目はありません。`,
  resultsEndAt: (n, results) =>
    `検索結果の${n}ページ目はありません。検索で表示されるのは最初の${results.toLocaleString("ja")}件までです。語句を追加して絞り込んでください。`,
  nothingHere: "このアドレスには何もありません。",
  notAMethodOf: (method, path, allowed) => `${path}では${method}メソッドは使えません。使えるのは${allowed.join(", ")}です。`,
  databaseBusy: "ただいまブログが混み合っています。しばらくしてからもう一度お試しください。",
  databaseUnreachable: "ただいまブログがデータベースに接続できません。しばらくしてからもう一度お試しください。",
  ourFault: "こちら側で問題が発生したため、このページを表示できませんでした。時間をおいてもう一度お試しください。"
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
  searchAtMostWords: (n) => `搜索内容最多 ${n} 个不同的词。`,
  searchUnavailable: "此博客不提供搜索。",
  backToAllPosts: "返回全部文章",
  notFound: "未找到",
  pageNotFound: "页面未找到",
  methodNotAllowed: "不允许的请求方法",
  badRequest: "请求无效",
  unavailable: "暂不可用",
  somethingWentWrong: "出错了",
  noPostAt: (slug) => `地址“${slug}”没有文章。`,
  noPage: (n) => `第 ${n} 页不存在。`,
  noSuchPage: "该页面不存在。",
  searchUnreadable: "无法读取搜索内容：地址中含有不是 UTF-8 文本的字节。",
  nothingTagged: (tag) => `标签“${tag}”下没有已发布的文章。`,
  nothingTaggedOnPage: (tag, n) => `标签“${tag}”下的文章没有第 ${n} 页。`,
  noSuchTag: "该标签不存在。",
  noSuchSitemap: "该站点地图不存在。",
  noSitemapOfPosts: (n) => `文章站点地图文件 ${n} 不存在。`,
  noSitemapOfPages: (n) => `页面站点地图文件 ${n} 不存在。`,
  noResultsPage: (n) => `搜索结果没有第 ${n} 页。`,
  resultsEndAt: (n, results) =>
    `搜索结果没有第 ${n} 页：搜索只显示前 ${results.toLocaleString("zh")} 条结果。请添加关键词以缩小范围。`,
  nothingHere: "此地址没有任何内容。",
  notAMethodOf: (method, path, allowed) => `${path} 不接受 ${method} 方法，仅接受 ${allowed.join(", ")}。`,
  databaseBusy: "博客当前繁忙，请稍后再试。",
  databaseUnreachable: "博客当前无法连接到数据库，请稍后再试。",
  ourFault: "我们这边出了问题，无法显示此页面。请稍后再试。"
}

// Taiwan's usage (搜尋, 部落格, 資料庫, 網址, 「」 quotes), which Hong Kong and Macau read too.
const traditionalChinese: Strings = {
  skipToContent: "跳到主要內容",
  posts: "文章",
  siteNavigation: "網站",
  searchPosts: "搜尋文章",
  search: "搜尋",
  subscribe: "訂閱：",
  tags: "標籤",
  minutesToRead: (n) => `閱讀時間約 ${n} 分鐘`,
  pages: "分頁",
  page: (n) => `第 ${n} 頁`,
  titleOnPage: (title, n) => `${title}（第 ${n} 頁）`,
  tableOfContents: "目錄",
  contents: "目錄",
  morePosts: "更多文章",
  previousPost: "上一篇",
  nextPost: "下一篇",
  postsTagged: (tag) => `標籤為「${tag}」的文章`,
  postsTaggedOn: (tag, site) => `${site}中標籤為「${tag}」的文章`,
  followTag: "追蹤此標籤",
  allPosts: "所有文章",
  nothingPublished: "尚未發布任何內容。",
  newerPosts: "較新的文章",
  olderPosts: "較舊的文章",
  updated: "更新於",
  byAuthors: (authors) => `作者：${authors}`,
  resultsFor: (q) => `「${q}」的搜尋結果`,
  searchThePostsOf: (site) => `搜尋${site}的文章`,
  noPostsMatch: (q) => `沒有符合「${q}」的文章。`,
  mostRelevantFirst: "依相關度排序。",
  betterMatches: "更相關的結果",
  moreResults: "更多結果",
  typeToSearch: "輸入幾個關鍵字來搜尋文章。",
  searchAtMost: (n) => `搜尋內容最多 ${n} 個字元。`,
  searchAtMostWords: (n) => `搜尋內容最多 ${n} 個不同的詞。`,
  searchUnavailable: "此部落格不提供搜尋功能。",
  backToAllPosts: "返回所有文章",
  notFound: "找不到",
  pageNotFound: "找不到頁面",
  methodNotAllowed: "不允許的請求方法",
  badRequest: "請求無效",
  unavailable: "暫時無法使用",
  somethingWentWrong: "發生錯誤",
  noPostAt: (slug) => `網址「${slug}」沒有文章。`,
  noPage: (n) => `第 ${n} 頁不存在。`,
  noSuchPage: "此頁面不存在。",
  searchUnreadable: "無法讀取搜尋內容：網址中含有不是 UTF-8 文字的位元組。",
  nothingTagged: (tag) => `標籤「${tag}」下沒有已發布的文章。`,
  nothingTaggedOnPage: (tag, n) => `標籤「${tag}」下的文章沒有第 ${n} 頁。`,
  noSuchTag: "此標籤不存在。",
  noSuchSitemap: "此網站地圖不存在。",
  noSitemapOfPosts: (n) => `文章網站地圖檔案 ${n} 不存在。`,
  noSitemapOfPages: (n) => `頁面網站地圖檔案 ${n} 不存在。`,
  noResultsPage: (n) => `搜尋結果沒有第 ${n} 頁。`,
  resultsEndAt: (n, results) =>
    `搜尋結果沒有第 ${n} 頁：搜尋只會顯示前 ${results.toLocaleString("zh-Hant")} 筆結果。請加入更多關鍵字以縮小範圍。`,
  nothingHere: "此網址沒有任何內容。",
  notAMethodOf: (method, path, allowed) => `${path} 不接受 ${method} 方法，僅接受 ${allowed.join(", ")}。`,
  databaseBusy: "部落格目前忙碌中，請稍後再試。",
  databaseUnreachable: "部落格目前無法連線到資料庫，請稍後再試。",
  ourFault: "我們這邊發生問題，無法顯示此頁面。請稍後再試。"
}

/** Catalogs by ISO 639 language code (Traditional Chinese apart: `catalogOf`). */
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
  return { strings: catalogOf(locale), direction, ogLocale: ogLocale(language) }
}

/**
 * Chinese is written in two scripts, and most tags name none: `zh-TW`, `zh-HK` and `zh-MO` mean
 * Traditional, `zh`, `zh-CN` and `zh-SG` Simplified. `maximize()` fills in the script CLDR's likely
 * subtags give the region (the data `Intl` itself formats dates by), so a script the tag names wins
 * (`zh-Hans-HK` is Simplified, `zh-Hant-CN` Traditional) and no list of regions is kept here.
 */
const catalogOf = (locale: Intl.Locale | undefined): Strings => {
  const language = locale?.language?.toLowerCase()
  if (locale === undefined || language === undefined) return english
  if (language === "zh" && (locale.script ?? locale.maximize().script) === "Hant") return traditionalChinese
  return CATALOGS[language] ?? english
}
